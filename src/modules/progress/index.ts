// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './progress.type.js';
export * from './progress.service.js';
export * from './progress.commands.js';
export * from './progress.policy.js';
export * from './progress.loader.js';
export * from './course-stats.live.js';
