// type-graphql needs the Reflect metadata polyfill loaded before any decorator runs. Every
// module imports type-graphql through this file, so the order can never be wrong.
import 'reflect-metadata';

export * from 'type-graphql';
