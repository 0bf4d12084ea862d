import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gid } from '../helpers/factories.js';
import { startRedisCluster, spawnRedisNode, waitForRedis } from '../helpers/redis-cluster.js';
import { freePort } from '../helpers/services.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, primed, subscribe } from '../helpers/ws-client.js';

const LIVE = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { lesson { title } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;
const WORKERS = { NOTIFICATION_WORKER: 'on', OUTBOX_POLL_MS: '200' };

/**
 * Opens a live subscription, runs `crash` (Redis goes away for good), then closes the app:
 * close must finish although nothing will answer again (the workers' connections are left
 * waiting to reconnect). The bound is one of correctness: before the fix, close never ended.
 */
async function closesAfter(t: TestApp, crash: () => Promise<void>): Promise<void> {
  const instructor = await t.make.user({ role: 'INSTRUCTOR' });
  const student = await t.make.user();
  const course = await t.make.course(instructor.id);
  await t.make.enrollment(student.id, course.id);
  const client = liveClient(t.url, { authorization: `Bearer ${await t.tokenFor(student)}` });
  try {
    const sub = subscribe(client, LIVE, { c: gid('Course', course.id) });
    const token = await t.tokenFor(instructor);
    await primed(sub, () => t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: 'probe' }, { token }));
    await crash();
    const closing = t.close().then(() => 'closed');
    const waited = new Promise((resolve) => setTimeout(resolve, 15_000, 'still closing'));
    expect(await Promise.race([closing, waited])).toBe('closed');
  } finally {
    await client.dispose();
  }
}

describe('Shutdown with Redis gone', () => {
  it('closes an app whose single Redis was SIGKILLed', async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'eduflow-redis-down-'));
    const child = spawnRedisNode(port, dir);
    try {
      await waitForRedis(port);
      const t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}`, ...WORKERS });
      await closesAfter(t, async () => {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('closes an app whose Redis Cluster lost every master (SIGKILL)', async () => {
    const cluster = await startRedisCluster();
    try {
      const t = await startTestApp({ REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.seeds, ...WORKERS });
      await closesAfter(t, async () => {
        for (const port of cluster.masters()) await cluster.kill(port);
      });
    } finally {
      await cluster.stop();
    }
  });
});
