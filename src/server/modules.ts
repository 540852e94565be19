// The modules the composition root sets up, in order. Each adds one line here.
import type { ModuleSetup } from './context.js';

export const MODULES: ModuleSetup[] = [];
