import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { backoffDelay, type JobInfo, type Processors, type QueueSettings } from '../../src/queue/jobs.js';
import { MemoryJobQueue } from '../../src/queue/memory-queue.js';

const settings: QueueSettings = {
  concurrency: 2,
  attempts: 3,
  backoffMs: 5,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  keepCompletedSeconds: 3_600,
  keepFailedSeconds: 3_600,
};
const log = createLogger('silent');
const noop = async () => {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise and the function that settles it: a job waits on it, the test opens it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/** Processors that record what ran; `cleanup` is the one under test. */
function recording(run: (info: JobInfo) => Promise<void>): Processors {
  return {
    'notifications.event': noop,
    'notifications.batch': noop,
    'notifications.reminder': noop,
    'notifications.email': noop,
    'accounts.token-email': noop,
    'maintenance.cleanup': (_data, info) => run(info),
    'maintenance.activity-report': noop,
    'certificates.issue': noop,
    'quizzes.expire': noop,
  };
}
const cleanup = (jobId?: string, delay?: number) => ({
  name: 'maintenance.cleanup' as const,
  data: {},
  opts: { jobId, delay },
});

describe(MemoryJobQueue.name, () => {
  let queue: MemoryJobQueue;
  afterEach(() => queue?.close());

  it('adds nothing for a job id it already has, as BullMQ does', async () => {
    queue = new MemoryJobQueue(settings, log);
    const ran: string[] = [];
    await queue.work(recording(async (info) => void ran.push(info.id)));
    await queue.add([cleanup('a'), cleanup('a'), cleanup('b')]);
    await vi.waitFor(
      async () => {
        const n = (await queue.counts()).maintenance.completed;
        expect(n).toBe(2);
        return n;
      },
      { timeout: 5_000, interval: 5 },
    );
    await queue.add([cleanup('a')]); // completed, still remembered
    await queue.add([cleanup('c')]);
    await vi.waitFor(
      async () => {
        const n = (await queue.counts()).maintenance.completed;
        expect(n).toBe(3);
        return n;
      },
      { timeout: 5_000, interval: 5 },
    );
    expect(ran.sort()).toEqual(['a', 'b', 'c']);
  });

  it('retries a failing job with back-off, and keeps it as failed after the last attempt', async () => {
    queue = new MemoryJobQueue(settings, log);
    const attempts: number[] = [];
    await queue.work(
      recording(async (info) => {
        attempts.push(info.attemptsMade);
        throw new Error('boom');
      }),
    );
    await queue.add([cleanup('x')]);
    await vi.waitFor(
      async () => {
        const n = (await queue.counts()).maintenance.failed;
        expect(n).toBe(1);
        return n;
      },
      { timeout: 5_000, interval: 5 },
    );
    expect(attempts).toEqual([0, 1, 2]);
    expect((await queue.counts()).maintenance).toMatchObject({ failed: 1, waiting: 0, delayed: 0, active: 0 });
  });

  it('runs at most `concurrency` jobs of a queue at once', async () => {
    queue = new MemoryJobQueue(settings, log);
    let running = 0;
    let peak = 0;
    await queue.work(
      recording(async () => {
        peak = Math.max(peak, ++running);
        await sleep(10); // the point: each job stays in hand a while, so others could overlap it
        running--;
      }),
    );
    await queue.add(Array.from({ length: 8 }, (_, i) => cleanup(`c${i}`)));
    await vi.waitFor(
      async () => {
        const n = (await queue.counts()).maintenance.completed;
        expect(n).toBe(8);
        return n;
      },
      { timeout: 5_000, interval: 5 },
    );
    expect(peak).toBe(2);
  });

  it('holds delayed jobs until their time, and removes them on request', async () => {
    queue = new MemoryJobQueue(settings, log);
    const ran: string[] = [];
    const sentinel = gate();
    await queue.work({
      ...recording(async (info) => void ran.push(info.id)),
      'maintenance.activity-report': async () => sentinel.open(),
    });
    await queue.add([cleanup('soon', 30), cleanup('dropped', 30)]);
    expect((await queue.counts()).maintenance.delayed).toBe(2);
    await queue.remove('maintenance.cleanup', 'dropped');
    expect(ran).toEqual([]);
    await vi.waitFor(
      async () => {
        const n = ran.length;
        expect(n).toBe(1);
        return n;
      },
      { timeout: 5_000, interval: 5 },
    );
    // The sentinel: a job due after the removed one's time has run, so that one would have too.
    await queue.add([{ name: 'maintenance.activity-report', data: {}, opts: { jobId: 'sentinel', delay: 30 } }]);
    await sentinel.opened;
    expect(ran).toEqual(['soon']);
  });

  it('lets jobs in hand finish on close, and starts no new ones', async () => {
    queue = new MemoryJobQueue({ ...settings, concurrency: 1 }, log);
    const finished: string[] = [];
    const inHand = gate();
    const release = gate();
    await queue.work(
      recording(async (info) => {
        inHand.open();
        await release.opened;
        finished.push(info.id);
      }),
    );
    await queue.add([cleanup('first'), cleanup('second')]);
    await inHand.opened; // 'first' is running
    const closing = queue.close();
    release.open();
    await closing;
    expect(finished).toEqual(['first']);
  });
});

describe(`${MemoryJobQueue.name} (timers)`, () => {
  afterEach(() => void vi.useRealTimers());

  it('accepts follow-up jobs from jobs in hand while closing (they are kept, not run)', async () => {
    const queue = new MemoryJobQueue(settings, log);
    let followUp: Promise<void> | undefined;
    const inHand = gate();
    const release = gate();
    await queue.work({
      ...recording(async () => {}),
      'maintenance.activity-report': async () => {
        inHand.open();
        await release.opened; // until the queue is closing
        followUp = queue.add([cleanup('follow-up')]);
      },
    });
    await queue.add([{ name: 'maintenance.activity-report', data: {}, opts: { jobId: 'r' } }]);
    await inHand.opened;
    const closing = queue.close();
    release.open();
    await closing;
    await expect(followUp).resolves.toBeUndefined();
    expect((await queue.counts()).maintenance).toMatchObject({ completed: 1, waiting: 1 });
  });

  it('fires a yearly schedule on its day, not when setTimeout’s 24.8-day limit runs out', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-02T00:00:00Z') });
    const queue = new MemoryJobQueue(settings, log);
    await queue.schedule('maintenance.cleanup', 'yearly', '0 0 1 1 *');
    await vi.advanceTimersByTimeAsync(30 * 86_400_000);
    expect((await queue.counts()).maintenance.waiting).toBe(0);
    await vi.advanceTimersByTimeAsync(335 * 86_400_000);
    expect((await queue.counts()).maintenance.waiting).toBe(1);
    await queue.close();
  });
});

describe(backoffDelay.name, () => {
  it('doubles per attempt, with ±50% jitter', () => {
    expect(backoffDelay(1, 1_000, () => 0.5)).toBe(1_000);
    expect(backoffDelay(3, 1_000, () => 0.5)).toBe(4_000);
    expect(backoffDelay(3, 1_000, () => 0)).toBe(2_000);
    expect(backoffDelay(3, 1_000, () => 0.999)).toBe(5_996);
  });

  it('never waits more than an hour and a half', () => {
    expect(backoffDelay(40, 1_000, () => 0.999)).toBeLessThanOrEqual(5_400_000);
  });
});
