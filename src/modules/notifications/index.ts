// The module's public surface: other modules and the composition root import from here.
export * from './notification.type.js';
export * from './notification.service.js';
export * from './notification.resolver.js';
export * from './notification.live.js';
export * from './notification.processors.js';
