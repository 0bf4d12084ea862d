// The module's public surface: other modules and the composition root import from here.
export * from './enrollment.resolver.js';
export * from './enrollment.service.js';
export * from './enrollment.type.js';
export * from './enrollment.loader.js';
export * from './enrollment.commands.js';
