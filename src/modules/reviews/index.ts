// The module's public surface; resolvers are listed in src/resolvers.ts.
export * from './review.service.js';
export * from './review.type.js';
export * from './review.policy.js';
