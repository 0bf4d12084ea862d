import { execFile, execFileSync, execSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './services.js';

/**
 * A Postgres server of the test's own (the machine's Postgres binaries, a fresh cluster in a
 * temporary folder, on a free port), so a test can stop, freeze and restart it without
 * touching the shared one. initdb refuses to run as root: it runs as the `postgres` user then.
 */
export async function startPrivatePostgres() {
  const { bin, dir, run, runAsync } = postgresWorkspace('eduflow-pg-');
  const data = join(dir, 'data');
  const port = await freePort();
  run(bin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const pgCtl = (...args: string[]) => run(bin('pg_ctl'), ['-D', data, ...args]);
  const startArgs = ['-o', `-p ${port} -k ${dir} -h 127.0.0.1`, '-l', join(dir, 'log'), '-w', 'start'];
  const start = () => pgCtl(...startArgs);
  /** pg_ctl without blocking the event loop (a benchmark keeps timing requests meanwhile). */
  const pgCtlAsync = (...args: string[]) => runAsync(bin('pg_ctl'), ['-D', data, ...args]);
  start();
  const postmasterPid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  /** The postmaster and every backend it forked. */
  const allPids = () => {
    const parent = postmasterPid();
    const children = execSync(`pgrep -P ${parent} || true`).toString().split('\n').filter(Boolean).map(Number);
    return [parent, ...children];
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    /** Stops it at once, as a crash or failover would. */
    stop: () => pgCtl('-m', 'immediate', 'stop'),
    start: () => void start(),
    /** `stop` and `start` without blocking the event loop; `startAsync` resolves once it accepts connections. */
    stopAsync: async () => void (await pgCtlAsync('-m', 'immediate', 'stop')),
    startAsync: async () => void (await pgCtlAsync(...startArgs)),
    /** Freezes every process of the server: connections stay open, nothing answers. */
    freeze: () => allPids().forEach((pid) => process.kill(pid, 'SIGSTOP')),
    thaw: () => allPids().forEach((pid) => process.kill(pid, 'SIGCONT')),
    async destroy() {
      try {
        this.thaw();
      } catch {
        // not running
      }
      try {
        pgCtl('-m', 'immediate', 'stop');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A temporary folder for private Postgres servers and a runner for the machine's Postgres
 * binaries: initdb refuses to run as root, so as root they run as the `postgres` user (who
 * then owns the folder).
 */
export function postgresWorkspace(prefix: string) {
  const version = readdirSync('/usr/lib/postgresql').sort().at(-1)!;
  const bin = (name: string) => join('/usr/lib/postgresql', version, 'bin', name);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const asRoot = process.getuid?.() === 0;
  if (asRoot)
    chownSync(
      dir,
      Number(execSync('id -u postgres').toString().trim()),
      Number(execSync('id -g postgres').toString().trim()),
    );
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  /** `run` without blocking the event loop. */
  const runAsync = (cmd: string, args: string[]) =>
    asRoot ? promisify(execFile)('runuser', ['-u', 'postgres', '--', cmd, ...args]) : promisify(execFile)(cmd, args);
  return { bin, dir, run, runAsync, asRoot };
}
