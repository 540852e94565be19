// The modules the composition root sets up, in order. Each adds one line here.
import type { ModuleSetup } from './context.js';
import { setupManagedIdentity } from '../sts/managedIdentity/setup.js';
import { setupAuthorization } from '../arm/authorization/setup.js';
import { setupStorage } from '../services/storage/setup.js';
import { setupKeyVault } from '../services/keyvault/setup.js';
import { setupAdvisor } from '../advisor/setup.js';
import { setupClientAccess } from '../proxy/setup.js';
import { setupGraph } from '../graph/setup.js';
import { setupCloudMetadata } from '../arm/cloudMetadata.js';
import { setupDeployments } from '../arm/deployments/setup.js';
import { setupPortal } from '../portal/setup.js';
import { setupFaultsApi } from './faultsApi.js';

// The advisor comes first: the others hand its usage record to their authorizers.
export const MODULES: ModuleSetup[] = [setupAdvisor, setupAuthorization, setupManagedIdentity, setupStorage, setupKeyVault, setupGraph, setupCloudMetadata, setupDeployments, setupClientAccess, setupPortal, setupFaultsApi];
