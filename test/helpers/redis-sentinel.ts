import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil, redisCli, spawnRedisNode, waitForRedis } from './redis-cluster.js';
import { freePort } from './services.js';

export const SENTINEL_MASTER_NAME = 'eduflow';

/**
 * A Redis master with one replica, watched by three Sentinels (quorum 2), all from the
 * machine's `redis-server` on free ports in a temporary folder that `stop()` removes. The
 * Sentinels judge a silent master down after one second, so a failover takes a few seconds.
 */
export async function startRedisSentinel() {
  const dir = mkdtempSync(join(tmpdir(), 'eduflow-redis-sentinel-'));
  const servers = new Map<number, ChildProcess>();
  const startServer = async (port: number, replicaOf?: number) => {
    const d = join(dir, String(port));
    mkdirSync(d, { recursive: true });
    servers.set(port, spawnRedisNode(port, d, replicaOf ? ['--replicaof', '127.0.0.1', String(replicaOf)] : []));
    await waitForRedis(port);
  };
  const master = await freePort();
  const replica = await freePort();
  await startServer(master);
  await startServer(replica, master);
  const sentinels: Array<{ port: number; child: ChildProcess }> = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${port}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${master} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push({ port, child: spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }) });
  }
  const stopAll = async () => {
    const children = [...servers.values(), ...sentinels.map((s) => s.child)];
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  const sentinel = {
    /** What REDIS_SENTINELS takes. */
    sentinels: () => sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    /** The master's port as the Sentinels name it. */
    masterPort(): number {
      const out = redisCli(sentinels[0]!.port, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER_NAME);
      return Number(out.trim().split('\n')[1]);
    },
    /** Resolves once every Sentinel knows the replica and the other Sentinels. */
    async waitReady(timeoutMs = 30_000): Promise<void> {
      await pollUntil(() => {
        for (const s of sentinels) {
          const info = redisCli(s.port, 'sentinel', 'master', SENTINEL_MASTER_NAME);
          const field = (name: string) => Number(new RegExp(`${name}\\n(\\d+)`).exec(info)?.[1] ?? 0);
          if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) throw new Error('sentinels not ready');
        }
      }, timeoutMs);
    },
    /** Resolves once the Sentinels name a master other than `old` and it accepts writes. */
    async waitNewMaster(old: number, timeoutMs = 60_000): Promise<number> {
      let port = old;
      await pollUntil(
        () => {
          port = sentinel.masterPort();
          if (port === old) throw new Error('no failover yet');
          if (!redisCli(port, 'role').startsWith('master')) throw new Error('not promoted yet');
        },
        timeoutMs,
        200,
      );
      return port;
    },
    /** SENTINEL FAILOVER: a planned switch to the replica. */
    failover(): void {
      execFileSync('redis-cli', ['-p', String(sentinels[0]!.port), 'sentinel', 'failover', SENTINEL_MASTER_NAME], {
        stdio: 'pipe',
      });
    },
    /**
     * SENTINEL FAILOVER once the Sentinels accept it: after a server came back they answer
     * NOGOODSLAVE until they have seen it as a healthy replica.
     */
    async failoverWhenReady(timeoutMs = 60_000): Promise<void> {
      await pollUntil(
        () => {
          const out = redisCli(sentinels[0]!.port, 'sentinel', 'failover', SENTINEL_MASTER_NAME);
          if (!out.startsWith('OK')) throw new Error(`SENTINEL FAILOVER: ${out.trim()}`);
        },
        timeoutMs,
        500,
      );
    },
    /**
     * Resolves once the master's replica is online and has everything the master has written,
     * so a crash of the master loses no acknowledged write (replication is asynchronous).
     */
    async replicated(master: number, timeoutMs = 30_000): Promise<void> {
      await pollUntil(
        () => {
          const info = redisCli(master, 'info', 'replication');
          const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
          const replica = /slave0:.*state=online,offset=(\d+)/.exec(info)?.[1];
          if (!offset || replica !== offset) throw new Error(`replica not caught up:\n${info}`);
        },
        timeoutMs,
        50,
      );
    },
    /** SIGKILL a data server (as a crash would). */
    async kill(port: number): Promise<void> {
      const c = servers.get(port)!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    /** The data servers that were killed (and not restarted). */
    killed: () => [...servers].filter(([, c]) => c.exitCode !== null || c.signalCode !== null).map(([port]) => port),
    /** Starts a killed server again as a replica of `of` (Sentinel reconfigures it anyway). */
    restart: (port: number, of: number) => startServer(port, of),
    stop: stopAll,
  };
  try {
    await sentinel.waitReady();
  } catch (err) {
    await stopAll();
    throw err;
  }
  return sentinel;
}

export type RedisSentinelProcess = Awaited<ReturnType<typeof startRedisSentinel>>;
