import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config.js';
import { createDatabase } from '../../src/db/client.js';
import { createLogger } from '../../src/logging/logger.js';
import { databaseUrl, TEST_JWT_SECRET, TEST_PG_ADMIN_URL, TEST_REDIS_URL } from './env.js';
import { requireServices } from './require-services.js';

/**
 * Once per `npm test`: creates and migrates a template database that every test file clones
 * (CREATE DATABASE ... TEMPLATE is fast), and removes every database and Redis key of this
 * run afterwards. Runs never share a database or a key, so they cannot collide.
 */
export default async function setup(project: TestProject) {
  await requireServices();
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const templateDb = `eduflow_test_${runId}_tpl`;
  const admin = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${templateDb}"`);

  const config = loadConfig({ DATABASE_URL: databaseUrl(templateDb), JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' });
  const database = createDatabase(config, createLogger('warn'));
  await database.migrate();
  await database.close();

  project.provide('testRun', { runId, templateDb });

  return async () => {
    const dbs = await admin<
      { datname: string }[]
    >`select datname from pg_database where datname like ${`eduflow_test_${runId}_%`}`;
    for (const { datname } of dbs) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
    const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      // BullMQ's keys start with their hash tag: {<prefix>bull}.
      for (const match of [`eduflow:test:${runId}:*`, `{eduflow:test:${runId}:*`]) {
        const stream = redis.scanStream({ match, count: 500 });
        for await (const keys of stream as AsyncIterable<string[]>) if (keys.length) await redis.del(...keys);
      }
    } finally {
      redis.disconnect();
    }
  };
}
