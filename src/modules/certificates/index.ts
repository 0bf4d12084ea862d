// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './certificate.type.js';
export * from './certificate.service.js';
export * from './certificate.loader.js';
export * from './certificate.processors.js';
export * from './certificate.url.js';
export * from './certificate.http.js';
