// The module's public surface: other modules and the composition root import from here.
export * from './user.resolver.js';
export * from './user.service.js';
export * from './user.type.js';
export * from './user.policy.js';
export * from './user.loader.js';
export * from './user.bootstrap.js';
