import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EnvSchema } from '../../src/config/env.schema.js';

const example = readFileSync('.env.example', 'utf8');
const entries = [...example.matchAll(/^# ([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!] as const);
const keys = Object.keys(EnvSchema.shape) as Array<keyof typeof EnvSchema.shape>;

describe('.env.example', () => {
  it('lists every variable the configuration reads, once, each with a one-line meaning', () => {
    expect(entries.map(([k]) => k).sort()).toEqual([...keys].sort());
    for (const [key] of entries) expect(example, key).toMatch(new RegExp(`^# [^\\n]+\\n# ${key}=`, 'm'));
  });

  it('shows the defaults the code applies', () => {
    for (const [key, value] of entries) {
      const parsed = EnvSchema.shape[key as keyof typeof EnvSchema.shape].safeParse(undefined);
      const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
      expect(value, key).toBe(fallback);
    }
  });

  it('docs/configuration.md has a row for exactly the variables the schema reads', () => {
    const doc = readFileSync('docs/configuration.md', 'utf8');
    // A row names one or more variables in its first cell: `| \`A\` / \`B\` | default | meaning |`.
    const documented = [...doc.matchAll(/^\| ([^|]+) \|/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((v) => v[1]!))
      .sort();
    expect(documented).toEqual([...keys].sort());
  });
});
