import nodemailer from 'nodemailer';
import type { Config } from '../config/config.js';
import type { Logger } from '../logging/logger.js';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Sends one message; throws when the mail server did not accept it (the job retries). */
export interface Mailer {
  readonly kind: 'smtp' | 'log';
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer's pooled transport when SMTP_URL is set; otherwise every message is
 * written to the log as structured JSON (development), so the same job step runs either way.
 */
export function createMailer(config: Config['mail'], log: Logger): Mailer {
  if (!config.smtpUrl) {
    return {
      kind: 'log',
      async send(message) {
        log.info(
          { mail: { from: config.from, to: message.to, subject: message.subject, text: message.text } },
          'email (not sent: SMTP_URL unset)',
        );
      },
      close() {},
    };
  }
  const transport = nodemailer.createTransport({
    url: config.smtpUrl,
    pool: true,
    maxConnections: config.concurrency,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    async send(message) {
      await transport.sendMail({ from: config.from, ...message });
    },
    close() {
      transport.close();
    },
  };
}
