// The modules the composition root sets up, in order. Each adds one line here.
import type { ModuleSetup } from './context.js';
import { setupManagedIdentity } from '../sts/managedIdentity/setup.js';
import { setupAuthorization } from '../arm/authorization/setup.js';
import { setupStorage } from '../services/storage/setup.js';
import { setupKeyVault } from '../services/keyvault/setup.js';
import { setupFaultsApi } from './faultsApi.js';

export const MODULES: ModuleSetup[] = [setupAuthorization, setupManagedIdentity, setupStorage, setupKeyVault, setupFaultsApi];
