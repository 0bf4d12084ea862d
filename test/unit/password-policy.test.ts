import { describe, expect, it } from 'vitest';
import { passwordProblem } from '../../src/auth/password-policy.js';

describe(passwordProblem.name, () => {
  it('refuses breached and common passwords, and ones built on the email', () => {
    for (const password of ['P@ssw0rd2024', 'dragon123456', 'monkey12345', 'jennifer1987', 'Summer2024!'])
      expect(passwordProblem(password), password).toMatch(/too common or too easy to guess/);
    expect(passwordProblem('maria.lopez2024', 'maria.lopez@example.test')).toMatch(/email/);
  });

  it('accepts long unpredictable passphrases', () => {
    for (const password of ['plum-kettle-harbour-42', 'violet-anchor-river-7', 'correct horse battery staple'])
      expect(passwordProblem(password, 'someone@example.test'), password).toBeNull();
  });
});
