import { and, desc, eq, getTableColumns, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { rowsOf, type Db } from '../../db/client.js';
import { certificates, courses, enrollments, users } from '../../db/schema.js';

const { pdf: _pdf, ...listed } = getTableColumns(certificates);
/** Every column but the PDF: reads of certificates never carry the document along. */
export type CertificateInfo = Omit<typeof certificates.$inferSelect, 'pdf'>;

export function certificatesByIds(db: Db, ids: string[]): Promise<CertificateInfo[]> {
  return db.select(listed).from(certificates).where(anyUuid(certificates.id, ids));
}

/** Keyed "courseId|studentId". */
export async function certificatesOfPairs(
  db: Db,
  pairs: Array<{ courseId: string; studentId: string }>,
): Promise<Map<string, CertificateInfo>> {
  if (!pairs.length) return new Map();
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`select c.id from ${certificates} c
      join unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.studentId))}::uuid[])
        as p(course_id, student_id) on c.course_id = p.course_id and c.student_id = p.student_id`),
  );
  const found = rows.length
    ? await certificatesByIds(
        db,
        rows.map((r) => r.id),
      )
    : [];
  return new Map(found.map((c) => [`${c.courseId}|${c.studentId}`, c]));
}

export async function certificatesOfStudents(db: Db, studentIds: string[]): Promise<Map<string, CertificateInfo[]>> {
  const rows = await db
    .select(listed)
    .from(certificates)
    .where(anyUuid(certificates.studentId, studentIds))
    .orderBy(desc(certificates.issuedAt));
  const m = new Map<string, CertificateInfo[]>();
  for (const r of rows) m.set(r.studentId, [...(m.get(r.studentId) ?? []), r]);
  return m;
}

export async function certificateByCode(db: Db, code: string): Promise<CertificateInfo | undefined> {
  const [row] = await db.select(listed).from(certificates).where(eq(certificates.code, code));
  return row;
}

/** The PDF of a certificate that is not revoked. */
export async function pdfByCode(db: Db, code: string): Promise<{ pdf: Buffer; issuedAt: Date } | undefined> {
  const [row] = await db
    .select({ pdf: certificates.pdf, issuedAt: certificates.issuedAt })
    .from(certificates)
    .where(and(eq(certificates.code, code), sql`${certificates.revokedAt} is null`));
  return row;
}

export async function revokeCertificateRow(db: Db, id: string, reason: string): Promise<CertificateInfo | undefined> {
  const [row] = await db
    .update(certificates)
    .set({ revokedAt: sql`coalesce(${certificates.revokedAt}, now())`, revokeReason: reason })
    .where(eq(certificates.id, id))
    .returning(listed);
  return row;
}

/** What an issuance needs: the student's name, the course's title, and a certificate already issued. */
export async function issuanceSubject(
  db: Db,
  enrollmentId: string,
): Promise<
  { studentName: string; courseTitle: string; courseId: string; studentId: string; issued: boolean } | undefined
> {
  const [row] = rowsOf<{
    student_name: string;
    course_title: string;
    course_id: string;
    student_id: string;
    issued: boolean;
  }>(
    await db.execute(sql`select u.display_name as student_name, c.title as course_title, e.course_id, e.student_id,
        exists (select 1 from ${certificates} x where x.course_id = e.course_id and x.student_id = e.student_id) as issued
      from ${enrollments} e join ${users} u on u.id = e.student_id join ${courses} c on c.id = e.course_id
      where e.id = ${enrollmentId}::uuid`),
  );
  return (
    row && {
      studentName: row.student_name,
      courseTitle: row.course_title,
      courseId: row.course_id,
      studentId: row.student_id,
      issued: row.issued,
    }
  );
}

/** Inserts the certificate unless the student has one for the course already; its id when inserted. */
export async function insertCertificate(tx: Db, values: typeof certificates.$inferInsert): Promise<string | undefined> {
  // The document goes as base64 text: a failed statement's log line then carries no raw PDF bytes.
  const pdf = sql`decode(${values.pdf.toString('base64')}, 'base64')` as unknown as Buffer;
  const [row] = await tx
    .insert(certificates)
    .values({ ...values, pdf })
    .onConflictDoNothing()
    .returning({ id: certificates.id });
  return row?.id;
}
