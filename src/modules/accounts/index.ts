// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './account.inputs.js';
export * from './account.type.js';
export * from './account.commands.js';
export { activeSessions, purgeSessions, recentRevocations } from './session.repository.js';
export { deleteExpiredAccountTokens } from './account-token.repository.js';
export * from './session.type.js';
export * from './session.service.js';
export * from './account-recovery.service.js';
export { accountTokenProcessors } from './account-token.mailer.js';
