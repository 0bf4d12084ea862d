// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './user.service.js';
export * from './user.type.js';
export * from './user.policy.js';
export * from './user.loader.js';
export * from './user.bootstrap.js';
