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
 * SMTP through nodemailer's pooled transport (MAIL_TRANSPORT=smtp); or the log transport, which
 * writes the recipient and subject of each message to the log and sends nothing, so the same job
 * step runs either way. Never the body: it carries sign-in material (reset and verification
 * links), and logs travel further than mailboxes.
 */
export function createMailer(config: Config['mail'], log: Logger): Mailer {
  if (config.transport === 'log' || !config.smtpUrl) {
    return {
      kind: 'log',
      async send(message) {
        log.info({ mail: { to: message.to, subject: message.subject } }, 'email not sent (MAIL_TRANSPORT=log)');
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
