import { describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/db/replicas/lsn.js';
import { MemoryWalPositions } from '../../src/db/replicas/wal-positions.js';

describe(parseLsn.name, () => {
  it('orders WAL positions by both halves, not as text', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('A/10') > parseLsn('9/FF')).toBe(true);
    expect(() => parseLsn('nonsense')).toThrow(/not a WAL position/);
  });
});

describe(MemoryWalPositions.name, () => {
  it('keeps the later of two positions recorded out of order', async () => {
    const positions = new MemoryWalPositions();
    await positions.record('u', 200n, 30);
    await positions.record('u', 100n, 30);
    expect(await positions.get('u')).toBe(200n);
    expect(await positions.get('other')).toBeUndefined();
  });
});
