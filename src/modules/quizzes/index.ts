// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './quiz.type.js';
export * from './gradebook.type.js';
export * from './quiz.inputs.js';
export * from './quiz.service.js';
export * from './quiz.commands.js';
export * from './quiz.policy.js';
export * from './quiz.loader.js';
export * from './quiz.processors.js';
export * from './quiz.throttle.js';
export * from './quiz.live.js';
export { recordCompletionsOfCourse } from './completion.repository.js';
export { lockActiveEnrollment, recordCompletionIfDone } from './quiz.repository.js';
