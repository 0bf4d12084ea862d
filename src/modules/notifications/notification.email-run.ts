import type { Config } from '../../config/config.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import type { Mailer } from '../../mail/mailer.js';
import { renderEmail } from './notification.email.js';
import { markEmailed, releaseEmailClaims, renewEmailClaims, type PendingEmail } from './notification.repository.js';

/** How long a stamp that fails (a locked row, a statement timeout, a database blip) is retried. */
const STAMP_RETRY_MS = 2 * 60_000;

export interface EmailRunResult {
  /** Mailed and stamped. */
  sent: number;
  /** Refused by the mail server, or mailed but never stamped (see `send`). */
  failures: unknown[];
  /** Not attempted (shutting down, or the lease could not be renewed): released for a retry. */
  unsent: number;
}

/**
 * One run of an email job over the rows it claimed: `concurrency` senders mail and stamp
 * them one by one while a timer renews the run's leases.
 *
 * - A sender starts a message only while the run's lease is known to hold for a while yet:
 *   if renewing fails (the database is away), sending stops before another run could take
 *   the rows over, so no row is ever mailed by two live runs.
 * - A stamp that fails is retried (the row stays claimed meanwhile): the message went out,
 *   and releasing the row would send it again.
 * - Claims are released only after every sender has settled, and only for rows that were
 *   not mailed: a sender still mailing its row can never have that row handed to a retry.
 */
export class EmailRun {
  private leaseValidUntil: number;

  constructor(
    private readonly db: Db,
    private readonly mailer: Mailer,
    private readonly mail: Config['mail'],
    private readonly log: Logger,
    private readonly runId: string,
    private readonly leaseMs: number,
    claimedAt: number,
    private readonly stopping?: () => boolean,
  ) {
    this.leaseValidUntil = claimedAt + leaseMs;
  }

  async send(claimed: PendingEmail[]): Promise<EmailRunResult> {
    const unsent = new Set(claimed.map((c) => c.id));
    const failures: unknown[] = [];
    let sent = 0;
    let refused = 0;
    let next = 0;
    // A message is started only with a third of a lease still ahead (time for it to finish).
    const mayStart = () => !this.stopping?.() && Date.now() < this.leaseValidUntil - this.leaseMs / 3;
    const sender = async () => {
      while (next < claimed.length && mayStart()) {
        const item = claimed[next++]!;
        try {
          await this.mailer.send(renderEmail(item, this.mail.publicAppUrl));
        } catch (err) {
          failures.push(err);
          refused++;
          continue;
        }
        unsent.delete(item.id);
        try {
          await this.stamp(item.id);
          sent++;
        } catch (err) {
          // Mailed, not stamped: its claim runs out with the lease and a retry mails it again
          // (at-least-once, only across a database failure this long).
          failures.push(err);
        }
      }
    };
    const renewal = setInterval(() => void this.renew(), this.leaseMs / 3);
    try {
      await Promise.allSettled(Array.from({ length: Math.min(this.mail.concurrency, claimed.length) }, sender));
    } finally {
      clearInterval(renewal);
    }
    await releaseEmailClaims(this.db, this.runId, [...unsent]).catch((err: unknown) =>
      this.log.warn({ err }, 'could not release email claims; their lease runs out soon'),
    );
    // Still in `unsent`: rows never attempted, and rows the mail server refused.
    return { sent, failures, unsent: unsent.size - refused };
  }

  private async renew(): Promise<void> {
    const started = Date.now();
    try {
      await renewEmailClaims(this.db, this.runId, this.leaseMs);
      this.leaseValidUntil = started + this.leaseMs;
    } catch (err) {
      this.log.warn({ err }, 'could not renew email claims; sending pauses unless a renewal succeeds');
    }
  }

  private async stamp(id: string): Promise<void> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return await markEmailed(this.db, id);
      } catch (err) {
        if (Date.now() - started > STAMP_RETRY_MS)
          throw new Error(`notification ${id} was mailed but could not be stamped`, { cause: err });
        this.log.warn({ err, notificationId: id, attempt }, 'could not stamp a mailed notification; retrying');
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 2_000)));
      }
    }
  }
}
