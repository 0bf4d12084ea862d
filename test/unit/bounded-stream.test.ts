import { describe, expect, it } from 'vitest';
import { BoundedStream } from '../../src/pubsub/bounded-stream.js';

describe(BoundedStream.name, () => {
  it('hands values to waiting readers first, then queues them in order', async () => {
    const s = new BoundedStream<number>(10, () => {});
    const first = s.next();
    s.push(1);
    s.push(2);
    s.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await s.next()).toEqual({ value: 2, done: false });
    expect(s.size).toBe(1);
  });

  it('ends and reports overflow when a reader falls too far behind, dropping what it held', () => {
    let overflowed = 0;
    const s = new BoundedStream<number>(3, () => overflowed++);
    for (let i = 0; i < 10; i++) s.push(i);
    expect(overflowed).toBe(1);
    expect(s.size).toBe(0);
  });

  it('runs its clean-ups once when ended, including ones registered late', async () => {
    const s = new BoundedStream<number>(3, () => {});
    let cleaned = 0;
    s.onEnd(() => cleaned++);
    await s.return();
    s.onEnd(() => cleaned++);
    s.end();
    expect(cleaned).toBe(2);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });
});
