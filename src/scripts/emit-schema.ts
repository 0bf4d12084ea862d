import { readFileSync, writeFileSync } from 'node:fs';
import { buildAppSchema, printSchemaSdl } from '../schema.js';

/**
 * `npm run schema:emit [file]` writes the SDL the code builds; `npm run schema:check` (`--check`)
 * only compares it with schema.graphql and fails when they differ.
 */
const check = process.argv.includes('--check');
const target = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'schema.graphql';
const sdl = printSchemaSdl(await buildAppSchema());
if (check) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: reported as out of date below
  }
  if (current !== sdl) {
    console.error(`${target} is out of date with the code; run npm run schema:emit`);
    process.exit(1);
  }
  console.log(`${target} matches the code`);
} else {
  writeFileSync(target, sdl);
  console.log(`schema written to ${target}`);
}
