// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './course.service.js';
export * from './course.type.js';
export * from './course.policy.js';
export * from './course.loader.js';
export { courseVisibility } from './course.repository.js';
export * from './course.commands.js';
export * from './course.inputs.js';
export * from './course.prefetch.js';
