import type { MailMessage } from '../../mail/mailer.js';
import type { PendingEmail } from './notification.repository.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The email for one notification: plain text plus a minimal HTML part, linking into the app. */
export function renderEmail(n: PendingEmail, publicAppUrl: string): MailMessage {
  const link = n.courseSlug
    ? `${publicAppUrl}/courses/${encodeURIComponent(n.courseSlug)}`
    : `${publicAppUrl}/notifications`;
  const text = `Hi ${n.displayName},\n\n${n.body}\n\nOpen EduFlow: ${link}\n\nYou receive this because of your EduFlow account.\n`;
  const html =
    `<p>Hi ${escapeHtml(n.displayName)},</p>` +
    `<p>${escapeHtml(n.body)}</p>` +
    `<p><a href="${escapeHtml(link)}">Open in EduFlow</a></p>` +
    `<p style="color:#666;font-size:12px">You receive this because of your EduFlow account.</p>`;
  return { to: n.email, subject: n.title, text, html };
}
