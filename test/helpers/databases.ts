import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { databaseUrl, TEST_PG_ADMIN_URL } from './env.js';

/** A fresh, migrated database of this run (a copy of the template). */
export async function createTestDatabase(
  opts: { migrated?: boolean } = {},
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const { runId, templateDb } = inject('testRun');
  const name = `eduflow_test_${runId}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(
      opts.migrated === false ? `create database "${name}"` : `create database "${name}" template "${templateDb}"`,
    );
  } finally {
    await admin.end();
  }
  return {
    name,
    url: databaseUrl(name),
    drop: async () => {
      const a = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** A Redis key prefix private to one test file of this run. */
export function testRedisPrefix(): string {
  const { runId } = inject('testRun');
  return `eduflow:test:${runId}:${randomBytes(4).toString('hex')}:`;
}
