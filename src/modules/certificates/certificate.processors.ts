import type { Db } from '../../db/client.js';
import type { Logger } from '../../logging/logger.js';
import { appendToOutbox, markOutboxProcessed } from '../../outbox/outbox.js';
import type { EventBus } from '../../pubsub/event-bus.js';
import { Topics } from '../../pubsub/topics.js';
import type { JobPayloads, Processors } from '../../queue/jobs.js';
import { newCertificateCode } from './certificate.code.js';
import { renderCertificatePdf } from './certificate.pdf.js';
import { insertCertificate, issuanceSubject } from './certificate.repository.js';

export interface CertificateProcessorDeps {
  readonly db: Db;
  readonly bus: EventBus;
  readonly log: Logger;
  /** The PDF's public address for a code (printed on it and in the email). */
  readonly pdfUrl: (code: string) => string;
}

/**
 * Issues the certificate of a course completion, exactly once. The document is rendered
 * first (no side effects); then one transaction inserts the row with its PDF (unique per
 * student and course: a second run inserts nothing), writes the CERTIFICATE_ISSUED event to
 * the outbox only if this run inserted, and marks the completion event processed. A crash
 * before that commit leaves nothing (the job runs again); after it, everything (a re-run
 * finds the certificate and does nothing).
 */
export class CertificateProcessors {
  constructor(private readonly deps: CertificateProcessorDeps) {}

  processors(): Pick<Processors, 'certificates.issue'> {
    return { 'certificates.issue': (data) => this.issue(data) };
  }

  async issue({ eventId, enrollmentId }: JobPayloads['certificates.issue']): Promise<void> {
    const { db, bus, log } = this.deps;
    const subject = await issuanceSubject(db, enrollmentId);
    if (!subject || subject.issued) {
      await markOutboxProcessed(db, eventId);
      return;
    }
    const code = newCertificateCode();
    const issuedAt = new Date();
    const verifyUrl = this.deps.pdfUrl(code);
    const pdf = await renderCertificatePdf({ ...subject, issuedAt, code, verifyUrl });
    const certificateId = await db.transaction(async (tx) => {
      const id = await insertCertificate(tx, {
        code,
        enrollmentId,
        courseId: subject.courseId,
        studentId: subject.studentId,
        studentName: subject.studentName,
        courseTitle: subject.courseTitle,
        issuedAt,
        pdf,
      });
      if (id)
        await appendToOutbox(tx, {
          type: 'certificate.issued',
          certificateId: id,
          courseId: subject.courseId,
          studentId: subject.studentId,
          code,
          verifyUrl,
          occurredAt: issuedAt.toISOString(),
        });
      await markOutboxProcessed(tx, eventId);
      return id;
    });
    if (!certificateId) return;
    log.info({ certificateId, courseId: subject.courseId, studentId: subject.studentId }, 'certificate issued');
    await bus
      .publish(Topics.courseActivity(subject.courseId), { courseId: subject.courseId })
      .catch((err: unknown) => log.warn({ err }, 'course statistics not told of the certificate'));
  }
}
