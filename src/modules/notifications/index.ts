// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './notification.type.js';
export * from './notification.service.js';
export * from './notification.commands.js';
export * from './notification.live.js';
export * from './notification.processors.js';
