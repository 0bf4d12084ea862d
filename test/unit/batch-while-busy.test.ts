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
