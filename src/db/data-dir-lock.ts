import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../startup/startup-error.js';

interface Holder {
  readonly pid: number;
  readonly command: string;
  readonly since: string;
}

const LOCK_FILE = 'eduflow.lock';

/**
 * One process per embedded data folder. PGlite is a single-writer store: a second process on
 * the same files runs happily and the two overwrite each other's pages, so a write one of them
 * committed can be gone after a restart. The lock is a file created exclusively, holding the
 * owner's pid; a lock whose process is gone (killed, crashed) is taken over. Returns the release.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, LOCK_FILE);
  const me: Holder = { pid: process.pid, command: commandLine(), since: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw err;
      const holder = readHolder(file);
      if (!holder && attempt < 2) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // its owner is writing it
        continue;
      }
      if (holder && isAlive(holder.pid)) {
        throw new StartupError(
          `the data folder ${dataDir} is in use by another EduFlow process (pid ${holder.pid}, ${holder.command}, ` +
            `since ${holder.since.slice(11, 19)} UTC). Stop that process first, or give this one its own folder, ` +
            `e.g. DATA_DIR=${dataDir.replace(/\/+$/, '')}-2 ${me.command}`,
        );
      }
      // Left behind by a process that no longer runs.
      unlinkSync(file);
    }
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readHolder(file)?.pid === process.pid) unlinkSync(file);
  };
  process.on('exit', release);
  return release;
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined; // being written, or removed meanwhile: the next attempt decides
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How the user started this process, as they would type it again. */
function commandLine(): string {
  const script = process.env.npm_lifecycle_event;
  if (script) return script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`;
  return `node ${process.argv.slice(1).join(' ')}`.trim();
}
