import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort } from './services.js';

interface RedisNodeProcess {
  port: number;
  child: ChildProcess;
}

/** A port whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p > 55_000 || taken.has(p)) continue;
    const bus = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(p + 10_000, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (bus) return p;
  }
}

export function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    stdio: 'pipe',
    timeout: 10_000,
  }).toString();
}

export function spawnRedisNode(port: number, dir: string, extra: string[] = []): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      ...extra,
    ],
    { stdio: 'ignore' },
  );
}

/**
 * Polls `check` until it stops throwing (vitest's vi.waitFor is not available in a global
 * setup, which starts these too).
 */
export async function pollUntil(check: () => void, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export async function waitForRedis(port: number): Promise<void> {
  await pollUntil(
    () => {
      if (!redisCli(port, 'ping').includes('PONG')) throw new Error(`redis on ${port} does not answer`);
    },
    10_000,
    50,
  );
}

/**
 * A real Redis Cluster of the test's own: six nodes of the machine's `redis-server` on free
 * ports (three masters, each with one replica), made with `redis-cli --cluster create`, in a
 * temporary folder that `stop()` removes with the processes.
 */
export async function startRedisCluster(options: { nodeTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'eduflow-redis-cluster-'));
  const taken = new Set<number>();
  const nodes: RedisNodeProcess[] = [];
  const nodeTimeout = String(options.nodeTimeoutMs ?? 2_000);
  const start = (port: number) => {
    const nodeDir = join(dir, String(port));
    execFileSync('mkdir', ['-p', nodeDir]);
    return spawnRedisNode(port, nodeDir, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(nodeDir, 'nodes.conf'),
      '--cluster-node-timeout',
      nodeTimeout,
      // A replica promotes itself as soon as its master is judged failed.
      '--cluster-replica-validity-factor',
      '0',
    ]);
  };
  for (let i = 0; i < 6; i++) {
    const port = await clusterPort(taken);
    taken.add(port);
    nodes.push({ port, child: start(port) });
  }
  try {
    await Promise.all(nodes.map((n) => waitForRedis(n.port)));
    execFileSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'],
      { stdio: 'pipe', timeout: 30_000 },
    );
  } catch (err) {
    for (const n of nodes) n.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const cluster = {
    nodes,
    /** What REDIS_CLUSTER_NODES takes. */
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    /** The ports of the current masters. */
    masters(): number[] {
      const alive = nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
      const out = redisCli(alive[0]!.port, 'cluster', 'nodes');
      // <id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slots...>
      return out
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f.length > 8 && f[2]!.split(',').includes('master') && !f[2]!.includes('fail'))
        .map((f) => Number(f[1]!.split('@')[0]!.split(':')[1]));
    },
    /** The master that serves a key's slot. */
    masterOf(key: string): number {
      const alive = nodes.find((n) => n.child.exitCode === null && n.child.signalCode === null)!;
      const slot = Number(redisCli(alive.port, 'cluster', 'keyslot', key).trim());
      const slots = JSON.parse(
        execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(alive.port), '--json', 'cluster', 'slots'], {
          stdio: 'pipe',
        }).toString(),
      ) as Array<[number, number, [string, number]]>;
      const range = slots.find(([from, to]) => slot >= from && slot <= to)!;
      return range[2][1];
    },
    /** Resolves once every alive node reports cluster_state:ok and every slot is served. */
    async waitHealthy(timeout = 30_000): Promise<void> {
      await pollUntil(() => {
        for (const n of nodes) {
          if (n.child.exitCode !== null || n.child.signalCode !== null) continue;
          if (!redisCli(n.port, 'cluster', 'info').includes('cluster_state:ok')) throw new Error(`${n.port} not ok`);
        }
      }, timeout);
    },
    /** SIGKILL a node (as a crash would); its replica takes over after the node timeout. */
    async kill(port: number): Promise<void> {
      const node = nodes.find((n) => n.port === port)!;
      const exited = new Promise((r) => node.child.once('exit', r));
      node.child.kill('SIGKILL');
      await exited;
    },
    /** Starts a killed node again (it rejoins, as a replica of whoever took its slots). */
    async restart(port: number): Promise<void> {
      const node = nodes.find((n) => n.port === port)!;
      node.child = start(port);
      await waitForRedis(port);
    },
    async stop(): Promise<void> {
      await Promise.all(
        nodes.map(async (n) => {
          if (n.child.exitCode !== null || n.child.signalCode !== null) return;
          const exited = new Promise((r) => n.child.once('exit', r));
          n.child.kill('SIGKILL');
          await exited;
        }),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await cluster.waitHealthy();
  return cluster;
}

export type RedisClusterProcess = Awaited<ReturnType<typeof startRedisCluster>>;
