import { describe, expect, it } from 'vitest';
import { Revocations } from '../../src/auth/revocations.js';

const KEEP = 930_000;
const T = Date.parse('2026-01-01T12:00:00.500Z');
const sec = (ms: number) => Math.floor(ms / 1000);

describe(Revocations.name, () => {
  it('refuses every token of a revoked session, and no other', () => {
    const r = new Revocations(KEEP);
    r.revokeSession('s1', T, T);
    expect(r.isRevoked({ userId: 'u', role: 'STUDENT', sessionId: 's1', issuedAt: sec(T) + 100 })).toBe(true);
    expect(r.isRevoked({ userId: 'u', role: 'STUDENT', sessionId: 's2', issuedAt: sec(T) - 100 })).toBe(false);
  });

  it('after a role change, refuses tokens issued before it or carrying another role', () => {
    const r = new Revocations(KEEP);
    r.roleChanged('u', 'STUDENT', 'INSTRUCTOR', T, T);
    expect(r.isRevoked({ userId: 'u', role: 'INSTRUCTOR', sessionId: 's', issuedAt: sec(T) - 1 })).toBe(true);
    // the same second, the old role (issued just before the change): refused
    expect(r.isRevoked({ userId: 'u', role: 'INSTRUCTOR', sessionId: 's', issuedAt: sec(T) })).toBe(true);
    // a refresh racing the change read the old role: refused whenever issued
    expect(r.isRevoked({ userId: 'u', role: 'INSTRUCTOR', sessionId: 's', issuedAt: sec(T) + 5 })).toBe(true);
    // the new role, issued in the second of the change or later: accepted
    expect(r.isRevoked({ userId: 'u', role: 'STUDENT', sessionId: 's', issuedAt: sec(T) })).toBe(false);
    expect(r.isRevoked({ userId: 'other', role: 'INSTRUCTOR', sessionId: 's', issuedAt: 0 })).toBe(false);
  });

  it('after a promotion, old tokens keep working with their lesser role; tokens of a role held before do not', () => {
    const r = new Revocations(KEEP);
    r.roleChanged('u', 'INSTRUCTOR', 'STUDENT', T, T);
    expect(r.isRevoked({ userId: 'u', role: 'STUDENT', sessionId: 's', issuedAt: sec(T) - 60 })).toBe(false);
    expect(r.isRevoked({ userId: 'u', role: 'INSTRUCTOR', sessionId: 's', issuedAt: sec(T) + 1 })).toBe(false);
    // an INSTRUCTOR token from an earlier time the user taught (demoted, now promoted again)
    expect(r.isRevoked({ userId: 'u', role: 'INSTRUCTOR', sessionId: 's', issuedAt: sec(T) - 60 })).toBe(true);
    expect(r.isRevoked({ userId: 'u', role: 'ADMIN', sessionId: 's', issuedAt: sec(T) + 1 })).toBe(true);
  });

  it('keeps the latest role change whichever arrives first', () => {
    const r = new Revocations(KEEP);
    r.roleChanged('u', 'ADMIN', 'STUDENT', T + 5_000, T);
    r.roleChanged('u', 'STUDENT', 'INSTRUCTOR', T, T); // older, arriving late (from the Postgres refresh)
    expect(r.isRevoked({ userId: 'u', role: 'ADMIN', sessionId: 's', issuedAt: sec(T + 5_000) })).toBe(false);
  });

  it('forgets markers once no token they affect can be valid', () => {
    const r = new Revocations(KEEP);
    r.revokeSession('s1', T, T);
    r.roleChanged('u', 'STUDENT', 'INSTRUCTOR', T, T);
    r.revokeSession('old', T - KEEP - 1, T); // already irrelevant: never stored
    expect(r.size).toEqual({ sessions: 1, users: 1 });
    r.prune(T + KEEP - 1);
    expect(r.size).toEqual({ sessions: 1, users: 1 });
    r.prune(T + KEEP);
    expect(r.size).toEqual({ sessions: 0, users: 0 });
  });
});
