// The seam every service imports: Azure's request limits on request (see throttle/).
export * from './throttle/index.js';
