// The module's public surface; resolvers are listed in src/resolvers.ts.
export * from './section.service.js';
export * from './section.type.js';
