import { requireRole } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import type { ClientInfo, RequestScope } from '../../request-scope.js';
import { touched } from '../../request-scope.js';
import type { AttemptStore, BackoffPolicy } from '../../throttle/attempt-store.js';
import { canReadCourseRoster } from '../courses/index.js';
import { normalizeCode } from './certificate.code.js';
import { certificateByCode, revokeCertificateRow, type CertificateInfo } from './certificate.repository.js';

export interface CertificateVerificationData {
  valid: boolean;
  courseTitle: string | null;
  studentName: string | null;
  issuedAt: Date | null;
  revokedAt: Date | null;
}

const UNKNOWN: CertificateVerificationData = {
  valid: false,
  courseTitle: null,
  studentName: null,
  issuedAt: null,
  revokedAt: null,
};

/** Per client address: 30 checks a minute, then back-off (codes cannot be enumerated). */
const VERIFY_POLICY: BackoffPolicy = { free: 30, baseMs: 1_000, maxMs: 5 * 60_000, windowMs: 60_000 };

/** Reads and revocation of certificates; issuing is the worker's (certificate.processors.ts). */
export class CertificateService {
  constructor(
    private readonly db: Db,
    private readonly attempts: AttemptStore,
    readonly pdfUrl: (code: string) => string,
  ) {}

  /** Visible to its student, admins and the course's instructor. */
  async findVisible(scope: RequestScope, id: string): Promise<CertificateInfo | null> {
    const uuid = uuidOf('Certificate', id);
    const cert = uuid ? await scope.loaders.certificates.byId.load(uuid) : null;
    return cert && (await this.canSee(scope, cert)) ? cert : null;
  }

  async canSee(scope: RequestScope, cert: CertificateInfo): Promise<boolean> {
    if (cert.studentId === scope.viewer.userId || scope.viewer.role === 'ADMIN') return true;
    const course = await scope.loaders.courses.rowForPolicy.load(cert.courseId);
    return !!course && canReadCourseRoster(scope.viewer, course);
  }

  /** The certificate of an enrollment's student and course (visible wherever the enrollment is). */
  ofPair(scope: RequestScope, courseId: string, studentId: string): Promise<CertificateInfo | null> {
    return scope.loaders.certificates.byPair.load(`${courseId}|${studentId}`);
  }

  /** `User.certificates` (field-guarded: the user themself and admins). */
  ofUser(scope: RequestScope, userId: string): Promise<CertificateInfo[]> {
    return scope.loaders.certificates.byStudent.load(userId);
  }

  /** Public, throttled per client address; the same answer for unknown and malformed codes. */
  async verify(client: ClientInfo, input: string): Promise<CertificateVerificationData> {
    const result = await this.attempts.attempt([{ key: `verify:ip:${client.ip}`, policy: VERIFY_POLICY, weight: 1 }]);
    if (!result.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      throw new AppError('RATE_LIMITED', `Too many certificate checks; try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
      });
    }
    const code = input.length <= 64 ? normalizeCode(input) : null;
    const cert = code ? await certificateByCode(this.db, code) : undefined;
    if (!cert) return UNKNOWN;
    return {
      valid: cert.revokedAt === null,
      courseTitle: cert.courseTitle,
      studentName: cert.studentName,
      issuedAt: cert.issuedAt,
      revokedAt: cert.revokedAt,
    };
  }

  /** Admins only; idempotent (revoking again keeps the first revokedAt, records the new reason). */
  async revoke(scope: RequestScope, id: string, reason: string): Promise<CertificateInfo> {
    requireRole(scope.viewer, 'ADMIN');
    const trimmed = reason.trim();
    if (trimmed.length < 1 || trimmed.length > 500) throw AppError.badInput({ reason: 'must be 1 to 500 characters' });
    const uuid = uuidOf('Certificate', id);
    const row = uuid ? await transaction(this.db, scope, (tx) => revokeCertificateRow(tx, uuid, trimmed)) : undefined;
    if (!row) throw AppError.notFound('Certificate');
    touched(scope, `Certificate:${row.id}`, `Course:${row.courseId}`, `User:${row.studentId}`);
    return row;
  }
}
