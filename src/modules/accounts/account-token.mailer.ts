import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import type { Mailer, MailMessage } from '../../mail/mailer.js';
import { markOutboxProcessed } from '../../outbox/outbox.js';
import type { Processors } from '../../queue/jobs.js';
import { markAccountTokenEmailed, mintAccountToken } from './account-token.repository.js';
import type { AccountTokenPurpose } from './account-token.table.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The email for a token: the link on a line of its own in the text part (the contract's rule). */
export function renderAccountTokenEmail(
  purpose: AccountTokenPurpose,
  to: string,
  name: string,
  link: string,
): MailMessage {
  const reset = purpose === 'PASSWORD_RESET';
  const subject = reset ? 'Reset your EduFlow password' : 'Verify your EduFlow email address';
  const lead = reset
    ? 'Someone (hopefully you) asked to reset the password of your EduFlow account. Open this link within 30 minutes to choose a new one:'
    : 'Please confirm this is your email address by opening this link within 24 hours:';
  const tail = reset
    ? 'If you did not ask for this, ignore this email: your password stays as it is.'
    : 'If you did not sign up for EduFlow, ignore this email.';
  return {
    to,
    subject,
    text: `Hello ${name},\n\n${lead}\n\n${link}\n\nThe link works once.\n${tail}\n`,
    html: `<p>Hello ${escapeHtml(name)},</p><p>${escapeHtml(lead)}</p><p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p><p>The link works once.<br>${escapeHtml(tail)}</p>`,
  };
}

/**
 * `accounts.token-email`: mints the token of a reset or verification request, emails it and
 * stamps it emailed, then marks its outbox event processed. Safe to run twice: a request already
 * emailed, used or expired sends nothing. A crash between the send and the stamp sends a second
 * email with a fresh token on retry (the first link then no longer works); that is the one
 * duplicate SMTP itself cannot rule out.
 */
export function accountTokenProcessors(deps: {
  db: Db;
  mailer: Mailer;
  log: Logger;
  publicAppUrl: string;
}): Pick<Processors, 'accounts.token-email'> {
  return {
    'accounts.token-email': async ({ eventId, tokenId }) => {
      const minted = await mintAccountToken(deps.db, tokenId);
      if (minted) {
        const path = minted.row.purpose === 'PASSWORD_RESET' ? 'reset-password' : 'verify-email';
        const link = `${deps.publicAppUrl}/${path}?token=${encodeURIComponent(minted.token)}`;
        await deps.mailer.send(renderAccountTokenEmail(minted.row.purpose, minted.row.email, minted.displayName, link));
        await markAccountTokenEmailed(deps.db, tokenId);
        deps.log.info({ tokenId, purpose: minted.row.purpose, userId: minted.row.userId }, 'account email sent');
      }
      await markOutboxProcessed(deps.db, eventId);
    },
  };
}
