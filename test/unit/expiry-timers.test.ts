import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExpiryTimers } from '../../src/ws/expiry-timers.js';

describe(ExpiryTimers.name, () => {
  afterEach(() => vi.useRealTimers());

  it('expires each item at its deadline, never earlier, with one timer', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const expired: string[] = [];
    const timers = new ExpiryTimers<string>((item) => expired.push(item));
    timers.add('b', new Date(1_003_000));
    timers.add('a', new Date(1_001_000));
    timers.add('a2', new Date(1_001_000));
    timers.add('c', new Date(1_005_000));
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['a', 'a2']);
    vi.advanceTimersByTime(2_000);
    expect(expired).toEqual(['a', 'a2', 'b']);
    expect(timers.size).toBe(1);
    vi.advanceTimersByTime(2_000);
    expect(expired).toEqual(['a', 'a2', 'b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('forgets removed items; an earlier deadline re-arms the timer; a past one expires at once', () => {
    vi.useFakeTimers({ now: 0 });
    const expired: string[] = [];
    const timers = new ExpiryTimers<string>((item) => expired.push(item));
    timers.add('late', new Date(10_000));
    timers.add('gone', new Date(2_000));
    timers.remove('gone', new Date(2_000));
    timers.remove('never added', new Date(2_000));
    timers.remove('no deadline', null);
    timers.add('soon', new Date(1_000));
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['soon']);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['soon']);
    timers.add('past', new Date(500));
    vi.advanceTimersByTime(0);
    expect(expired).toEqual(['soon', 'past']);
    vi.advanceTimersByTime(8_000);
    expect(expired).toEqual(['soon', 'past', 'late']);
    timers.add('x', new Date(20_000));
    timers.clear();
    vi.advanceTimersByTime(20_000);
    expect(expired).toEqual(['soon', 'past', 'late']);
  });
});
