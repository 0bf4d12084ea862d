// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './maintenance.processors.js';
export * from './platform.repository.js';
export * from './platform.service.js';
