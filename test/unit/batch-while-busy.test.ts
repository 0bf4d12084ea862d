import { describe, expect, it } from 'vitest';
import { batchWhileBusy } from '../../src/util/batch-while-busy.js';

const tick = () => new Promise((r) => setImmediate(r));

describe(batchWhileBusy.name, () => {
  it('sends the first key at once and the keys arriving meanwhile together, in key order', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = batchWhileBusy(
      async (keys: readonly number[]) => {
        batches.push([...keys]);
        if (batches.length === 1) await gate;
        return keys.map((k) => k * 10);
      },
      { maxInFlight: 1 },
    );
    const first = load(1);
    await tick();
    const rest = [2, 3, 4].map((k) => load(k));
    await tick();
    expect(batches).toEqual([[1]]);
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('with a window, gathers the keys arriving within it into one batch', async () => {
    const batches: string[][] = [];
    const load = batchWhileBusy(async (keys: readonly string[]) => (batches.push([...keys]), [...keys]), {
      windowMs: 20,
    });
    const first = load('a');
    await tick();
    const second = load('b');
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(batches).toEqual([['a', 'b']]);
  });

  it('sends the keys that queued behind a batch in flight when it settles, at most one batch per window', async () => {
    const sent: Array<{ keys: string[]; at: number }> = [];
    const gates: Array<() => void> = [];
    const load = batchWhileBusy(
      async (keys: readonly string[]) => {
        sent.push({ keys: [...keys], at: performance.now() });
        await new Promise<void>((r) => gates.push(r));
        return [...keys];
      },
      { windowMs: 100, maxInFlight: 1 },
    );
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const first = load('a'); // idle: waits for its window
    await sleep(150);
    expect(sent.map((b) => b.keys)).toEqual([['a']]);
    // Queued behind a batch that has been in flight for longer than a window: out when it settles.
    const second = [load('b'), load('c')];
    await sleep(60);
    const settledAt = performance.now();
    gates[0]!();
    await sleep(20);
    expect(sent.map((b) => b.keys)).toEqual([['a'], ['b', 'c']]);
    expect(sent[1]!.at - settledAt).toBeLessThan(15);
    // Queued behind a batch that settles within its window: out a window after that batch, not sooner.
    const third = load('d');
    gates[1]!();
    await sleep(5);
    expect(sent).toHaveLength(2);
    await sleep(150);
    expect(sent.map((b) => b.keys)).toEqual([['a'], ['b', 'c'], ['d']]);
    // A window, not sooner: Node's timers may fire a millisecond or two before performance.now()
    // says the delay is over (the loop's clock is read once per turn).
    expect(sent[2]!.at - sent[1]!.at).toBeGreaterThanOrEqual(95);
    gates[2]!();
    expect(await Promise.all([first, ...second, third])).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects the keys of a failed batch only', async () => {
    let calls = 0;
    const load = batchWhileBusy(
      async (keys: readonly string[]) => {
        if (calls++ === 0) throw new Error('database down');
        return keys;
      },
      { maxInFlight: 1 },
    );
    await expect(load('a')).rejects.toThrow('database down');
    expect(await load('b')).toBe('b');
  });

  it('does not let a hung batch hold up the keys behind it', async () => {
    const load = batchWhileBusy(
      (keys: readonly string[]) => (keys[0] === 'hung' ? new Promise<string[]>(() => {}) : Promise.resolve([...keys])),
      { maxInFlight: 1, staleMs: 50 },
    );
    void load('hung');
    await tick();
    expect(await load('next')).toBe('next');
  });
});
