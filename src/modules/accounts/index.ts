// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './account.inputs.js';
export * from './account.type.js';
export * from './account.commands.js';
export { isSessionCurrent, purgeSessions, recentRevocations } from './session.repository.js';
