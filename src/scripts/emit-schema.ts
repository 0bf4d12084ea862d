import { writeFileSync } from 'node:fs';
import { buildAppSchema, printSchemaSdl } from '../schema.js';

const target = process.argv[2] ?? 'schema.graphql';
writeFileSync(target, printSchemaSdl(await buildAppSchema()));
console.log(`schema written to ${target}`);
