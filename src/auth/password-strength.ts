import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from '../errors/app-error.js';

/**
 * zxcvbn-ts with its common dictionaries (breached passwords, names, frequent words) and the
 * English ones, all bundled in the packages: no network. It scores on worker threads, never on
 * the event loop: one check takes around a tenth of a second, and a hostile password several
 * times that, time in which the process would answer nobody (docs/decisions/password-strength-workers.md).
 */

/**
 * Matching grows fast with length (seconds for 128 repetitive characters): only the first
 * MAX_CHECKED characters are scored. A password that long with a strong start is strong; the
 * variety rule (password-policy.ts) still sees the whole password.
 */
const MAX_CHECKED = 20;
/** Checks waiting for a worker beyond this are refused (SERVICE_UNAVAILABLE) rather than queued without end. */
const MAX_QUEUED = 64;
/** A check running longer than this ends its worker (a new one takes its place). */
const CHECK_TIMEOUT_MS = 10_000;

const require = createRequire(import.meta.url);

// The worker's code is inline, requiring the packages by absolute path: it then runs the same
// under tsx, vitest and the compiled build (a worker file in TypeScript needs a loader in each).
// The dictionaries are indexed once per worker, at its start.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const english = require(workerData.english);
const factory = new ZxcvbnFactory({
  translations: english.translations,
  graphs: common.adjacencyGraphs,
  dictionary: { ...common.dictionary, ...english.dictionary },
  maxLength: workerData.maxLength,
});
parentPort.on('message', ({ id, password, userInputs }) => {
  try {
    parentPort.postMessage({ id, score: factory.check(password, userInputs).score });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) });
  }
});
`;

interface Job {
  id: number;
  password: string;
  userInputs: string[];
  resolve: (score: number) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

const unavailable = () =>
  new AppError('SERVICE_UNAVAILABLE', 'Password checks are busy; try again in a moment', { retryAfterSeconds: 1 });

/**
 * A small pool of worker threads scoring passwords, with a bounded queue. Workers start on
 * first use and keep the process alive only while they have work.
 */
export class PasswordStrengthPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly size = Math.max(1, Math.min(2, availableParallelism() - 1)),
    private readonly maxQueued = MAX_QUEUED,
    private readonly timeoutMs = CHECK_TIMEOUT_MS,
  ) {}

  /** zxcvbn's score (0-4) of the password's first MAX_CHECKED characters. */
  score(password: string, userInputs: readonly string[] = []): Promise<number> {
    if (this.closed) return Promise.reject(unavailable());
    if (this.queue.length >= this.maxQueued) return Promise.reject(unavailable());
    return new Promise<number>((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        password: password.slice(0, MAX_CHECKED),
        userInputs: userInputs.map((s) => s.slice(0, 100)),
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unavailable());
    for (const slot of this.slots) slot.job?.reject(unavailable());
    await Promise.all(this.slots.splice(0).map((s) => (this.settle(s), this.retire(s))));
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size) this.slots.push((slot = this.spawn()));
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.timer = setTimeout(() => this.fail(slot!, unavailable()), this.timeoutMs);
      slot.worker.postMessage({ id: job.id, password: job.password, userInputs: job.userInputs });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        core: require.resolve('@zxcvbn-ts/core'),
        common: require.resolve('@zxcvbn-ts/language-common'),
        english: require.resolve('@zxcvbn-ts/language-en'),
        maxLength: MAX_CHECKED,
      },
    });
    worker.unref();
    const slot: Slot = { worker, job: null, timer: null };
    worker.on('message', (msg: { id: number; score?: number; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      this.settle(slot);
      if (msg.error !== undefined) job.reject(new Error(`password check failed: ${msg.error}`));
      else job.resolve(msg.score!);
      this.dispatch();
    });
    const lost = (err: unknown) => this.fail(slot, err);
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`password check worker exited with code ${code}`)));
    return slot;
  }

  /** The slot's job fails; its worker is replaced (it may be stuck in a check). */
  private fail(slot: Slot, err: unknown): void {
    const job = slot.job;
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    this.settle(slot);
    void this.retire(slot);
    job?.reject(err);
    if (!this.closed) this.dispatch();
  }

  private settle(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
    slot.worker.unref();
  }

  private async retire(slot: Slot): Promise<void> {
    slot.worker.removeAllListeners('exit');
    slot.worker.removeAllListeners('message');
    slot.worker.on('error', () => {});
    await slot.worker.terminate().catch(() => undefined);
  }
}

let shared: PasswordStrengthPool | undefined;

/** zxcvbn's score (0-4) of a password, given what it must not lean on (the email, its name). */
export function passwordScore(password: string, userInputs: readonly string[] = []): Promise<number> {
  return (shared ??= new PasswordStrengthPool()).score(password, userInputs);
}
