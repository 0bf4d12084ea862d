import { describe, expect, it } from 'vitest';
import { passwordProblem } from '../../src/auth/password-policy.js';
import { PasswordStrengthPool } from '../../src/auth/password-strength.js';

describe(passwordProblem.name, () => {
  it('refuses breached and common passwords, and ones built on the email', async () => {
    for (const password of ['P@ssw0rd2024', 'dragon123456', 'monkey12345', 'jennifer1987', 'Summer2024!'])
      expect(await passwordProblem(password), password).toMatch(/too common or too easy to guess/);
    expect(await passwordProblem('maria.lopez2024', 'maria.lopez@example.test')).toMatch(/email/);
  });

  it('accepts long unpredictable passphrases', async () => {
    for (const password of ['plum-kettle-harbour-42', 'violet-anchor-river-7', 'correct horse battery staple'])
      expect(await passwordProblem(password, 'someone@example.test'), password).toBeNull();
  });

  it('keeps the event loop responsive while hostile passwords are scored', async () => {
    await passwordProblem('warm-up-the-worker-9'); // the dictionaries are indexed at a worker's start
    // Inputs zxcvbn spends long on: repeated sequences, keyboard walks and dates.
    const hostile = [
      '1qaz2wsx3edc4rfv5tgb6yhn',
      'abcabcabcabcabcabcabcabcabc1',
      '19801980198019801980x',
      'qwertyuiopasdfghjklzxcvbnm',
      'aB1!aB1!aB1!aB1!aB1!aB1!',
      'passwordpasswordpassword1',
    ];
    let worst = 0;
    let last = performance.now();
    let running = true;
    const tick = () => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    await Promise.all(hostile.map((p) => passwordProblem(p)));
    // One more turn, so the ticker (queued first) also measures the gap up to now.
    await new Promise((resolve) => setImmediate(resolve));
    running = false;
    // No turn of the loop waited on a check: each hostile one takes 270-520 ms when run on the
    // loop (the worst gap then is over 400 ms); the bound leaves room for a loaded machine's
    // scheduling and garbage collection.
    expect(worst).toBeLessThan(150);
  });

  it('refuses checks beyond its queue with SERVICE_UNAVAILABLE instead of queueing without end', async () => {
    const pool = new PasswordStrengthPool(1, 2);
    try {
      const checks = Array.from({ length: 5 }, (_, i) =>
        pool.score(`queued-password-${i}`).then(
          () => 'scored',
          (err: { code?: string }) => err.code,
        ),
      );
      // One runs, two wait; the fourth and fifth are refused at once.
      expect(await Promise.all(checks)).toEqual([
        'scored',
        'scored',
        'scored',
        'SERVICE_UNAVAILABLE',
        'SERVICE_UNAVAILABLE',
      ]);
    } finally {
      await pool.close();
    }
  });
});
