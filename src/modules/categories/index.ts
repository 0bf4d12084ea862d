// The module's public surface; resolvers are listed in src/resolvers.ts.
export * from './category.service.js';
export * from './category.type.js';
