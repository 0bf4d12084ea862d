// The module's public surface: other modules and the composition root import from here.
export * from './account.inputs.js';
export * from './account.resolver.js';
export * from './account.service.js';
export { isSessionCurrent, purgeSessions, recentRevocations } from './session.repository.js';
