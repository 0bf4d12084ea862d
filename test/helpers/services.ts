import { expect, vi } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A Redis server of the test's own (the machine's redis-server binary on a free port), so a
 * test can stop and restart it without disturbing the shared one other tests use.
 */
export async function startPrivateRedis(port?: number) {
  const p = port ?? (await freePort());
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ],
      {
        stdio: 'ignore',
      },
    );
    // Ready once it accepts connections.
    await vi.waitFor(
      async () => {
        const ok = await new Promise<boolean>((resolve) => {
          const socket = connect(p, '127.0.0.1');
          socket.once('connect', () => {
            socket.end();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        });
        expect(ok, JSON.stringify(ok)).toBe(true);
        return ok;
      },
      { timeout: 10_000, interval: 50 },
    );
  };
  await start();
  return {
    url: `redis://127.0.0.1:${p}/0`,
    port: p,
    /** Kills the server (as an outage would); its data is gone, as the brief's Redis keeps none. */
    async stop() {
      const c = child!;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
    start,
    /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
    freeze: () => void child!.kill('SIGSTOP'),
    thaw: () => void child!.kill('SIGCONT'),
  };
}
