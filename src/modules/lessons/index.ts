// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './lesson.service.js';
export * from './lesson.type.js';
export * from './lesson.policy.js';
export * from './lesson.loader.js';
export * from './lesson.commands.js';
export * from './lesson.inputs.js';
export * from './lesson.events.js';
export * from './lesson.lifecycle.js';
export * from './lesson.live.js';
export * from './curriculum.repository.js';
