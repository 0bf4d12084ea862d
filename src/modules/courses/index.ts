// The module's public surface: other modules and the composition root import from here.
export * from './course.resolver.js';
export * from './course.service.js';
export * from './course.type.js';
export * from './course.policy.js';
export * from './course.loader.js';
export { courseVisibility } from './course.repository.js';
export * from './course.commands.js';
export * from './course.inputs.js';
