// The module's public surface: other modules and the composition root import from here.
export * from './platform.resolver.js';
export * from './maintenance.processors.js';
export * from './platform.repository.js';
