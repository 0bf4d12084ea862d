import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import type { AttemptKey, AttemptResult, AttemptStore, BackoffPolicy } from '../throttle/attempt-store.js';

/**
 * Slows down password guessing without letting an attacker lock a victim out:
 *  - per account and client IP: `freeAttempts` tries, then exponential back-off (the main
 *    limit; an attacker elsewhere does not touch the victim's pair);
 *  - per client IP, across accounts: a larger allowance (credential stuffing);
 *  - per account, from IPs that never signed in to it: a larger allowance, back-off capped
 *    at a few minutes (slows distributed guessing). The account's owner, coming from an IP
 *    that signed in before, is not subject to it, so nobody can keep them out.
 * All counts expire an hour after the last attempt. Successful sign-ins clear the pair and
 * the account counts, and give the IP its attempt back.
 */
export interface LoginThrottleOptions {
  readonly freeAttempts: number;
  /** Accounts one client IP may register per hour before back-off. */
  readonly registrationsPerHour: number;
  /** Recovery and verification emails per address and per account per hour before back-off. */
  readonly accountEmailsPerHour?: number;
}

const MINUTE = 60_000;
const KNOWN_IP_TTL_MS = 30 * 24 * 60 * MINUTE;

export class LoginThrottle {
  private readonly pair: BackoffPolicy;
  private readonly ip: BackoffPolicy;
  private readonly account: BackoffPolicy;
  private readonly registration: BackoffPolicy;
  private readonly accountEmail: BackoffPolicy;
  private readonly resetRequests: BackoffPolicy;

  constructor(
    private readonly store: AttemptStore,
    options: LoginThrottleOptions,
  ) {
    const free = options.freeAttempts;
    this.pair = { free, baseMs: 1_000, maxMs: 15 * MINUTE, windowMs: 60 * MINUTE };
    this.ip = { free: free * 6, baseMs: 1_000, maxMs: 60 * MINUTE, windowMs: 60 * MINUTE };
    this.account = { free: free * 4, baseMs: 1_000, maxMs: 5 * MINUTE, windowMs: 60 * MINUTE };
    this.registration = {
      free: options.registrationsPerHour,
      baseMs: MINUTE,
      maxMs: 60 * MINUTE,
      windowMs: 60 * MINUTE,
    };
    this.accountEmail = {
      free: options.accountEmailsPerHour ?? 3,
      baseMs: MINUTE,
      maxMs: 60 * MINUTE,
      windowMs: 60 * MINUTE,
    };
    this.resetRequests = { free: 20, baseMs: MINUTE, maxMs: 60 * MINUTE, windowMs: 60 * MINUTE };
  }

  /**
   * Verification emails (and, by `kind`, others a signed-in user asks for): per address, and per account
   * when one exists (an account's address and the address asked for are the same string, so
   * both limits trip together and the answer reveals nothing about the account).
   * Throws RATE_LIMITED with `retryAfterSeconds`.
   */
  async reserveAccountEmail(kind: 'reset' | 'verify', email: string | null, userId: string | null): Promise<void> {
    const keys: AttemptKey[] = [];
    if (email !== null)
      keys.push({ key: `mail:${kind}:address:${accountKey(email)}`, policy: this.accountEmail, weight: 1 });
    if (userId) keys.push({ key: `mail:${kind}:account:${userId}`, policy: this.accountEmail, weight: 1 });
    this.check(await this.store.attempt(keys), `${kind === 'reset' ? 'password reset' : 'verification'} emails`);
  }

  /**
   * Password-reset requests per client IP (someone mailing many addresses). Never per address:
   * a stranger asking for someone's address must not keep its owner from asking (the mails
   * themselves are capped by the live links, see AccountRecoveryService). Throws RATE_LIMITED.
   */
  async reserveResetRequest(clientIp: string): Promise<void> {
    this.check(
      await this.store.attempt([{ key: `mail:reset:ip:${clientIp}`, policy: this.resetRequests, weight: 1 }]),
      'password reset requests',
    );
  }

  /** Account creation per client IP (sign-up spam). Throws RATE_LIMITED. */
  async reserveRegistration(clientIp: string): Promise<void> {
    this.check(
      await this.store.attempt([{ key: `register:ip:${clientIp}`, policy: this.registration, weight: 1 }]),
      'registrations',
    );
  }

  /**
   * Reserves the sign-in attempts of one request: `emails` lists the email of every login
   * field in it (aliases included), so fifteen aliased logins cost fifteen attempts.
   * Throws RATE_LIMITED with `retryAfterSeconds`.
   */
  async reserve(emails: readonly string[], clientIp: string): Promise<void> {
    const perEmail = new Map<string, number>();
    for (const e of emails) perEmail.set(e, (perEmail.get(e) ?? 0) + 1);
    const keys: AttemptKey[] = [{ key: `login:ip:${clientIp}`, policy: this.ip, weight: emails.length }];
    for (const [email, weight] of perEmail) {
      const acct = accountKey(email);
      keys.push({ key: `login:pair:${acct}:${clientIp}`, policy: this.pair, weight });
      if (!(await this.store.hasFlag(`login:known:${acct}:${clientIp}`))) {
        keys.push({ key: `login:account:${acct}`, policy: this.account, weight });
      }
    }
    this.check(await this.store.attempt(keys), 'sign-in attempts');
  }

  private check(result: AttemptResult, what: string): void {
    if (result.allowed) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
    throw new AppError('RATE_LIMITED', `Too many ${what}; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }

  async succeeded(email: string, clientIp: string): Promise<void> {
    const acct = accountKey(email);
    await Promise.all([
      this.store.reset(`login:pair:${acct}:${clientIp}`),
      this.store.reset(`login:account:${acct}`),
      this.store.refund(`login:ip:${clientIp}`),
      this.store.setFlag(`login:known:${acct}:${clientIp}`, KNOWN_IP_TTL_MS),
    ]);
  }
}

/** Emails never appear in Redis keys in clear. */
function accountKey(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url').slice(0, 22);
}
