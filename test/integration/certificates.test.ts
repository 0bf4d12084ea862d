import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { CertificateProcessors } from '../../src/modules/certificates/index.js';
import type { UserRow } from '../../src/db/schema.js';
import { createEventBus } from '../../src/pubsub/event-bus.js';
import { gid } from '../helpers/factories.js';
import { codesOf, graphqlClient, type GraphQLClient } from '../helpers/graphql-client.js';
import { queryRows, startSmtpSink } from '../helpers/notifications.js';
import { createQuiz, fourKinds, pdfText, rightAnswers, START, SUBMIT } from '../helpers/quizzes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`;
const UNMARK = `mutation($l: ID!) { unmarkLessonCompleted(lessonId: $l) { id } }`;
const MINE = `query { me { certificates { id code pdfUrl issuedAt revokedAt course { title } student { displayName } }
  enrollments(first: 5) { edges { node { certificate { code } progress { completedLessons totalLessons requiredQuizzes passedRequiredQuizzes completed completedAt } } } } } }`;
const VERIFY = `query($code: String!) { verifyCertificate(code: $code) { valid courseTitle studentName issuedAt revokedAt } }`;
const REVOKE = `mutation($id: ID!, $reason: String!) { revokeCertificate(id: $id, reason: $reason) { id revokedAt } }`;
const NOTES = `query { me { notifications(first: 10) { edges { node { kind title body } } } } }`;
const STATS = `query($c: ID!) { course(id: $c) { stats { certificatesIssued averageQuizPercent }
  gradebook(first: 10) { totalCount edges { node { enrollment { id } quizBestPercents certificate { code } progress { completed } } } } } }`;

describe('completion and certificates, exactly once', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  let owner: UserRow, admin: UserRow;
  const tok: Record<string, string> = {};

  /** This server's own address: PUBLIC_URL names the public one, printed in PDFs and emails. */
  let base: string;
  let gql: GraphQLClient;

  beforeAll(async () => {
    smtp = await startSmtpSink();
    t = await startTestApp({
      NOTIFICATION_WORKER: 'on',
      SMTP_URL: smtp.url,
      OUTBOX_POLL_MS: '200',
      PUBLIC_URL: 'https://api.eduflow.test/graphql',
    });
    base = `http://127.0.0.1:${(t.app.httpServer.address() as AddressInfo).port}`;
    gql = graphqlClient(`${base}/graphql`);
    owner = await t.make.user({ role: 'INSTRUCTOR' });
    admin = await t.make.user({ role: 'ADMIN' });
    tok.owner = await t.tokenFor(owner);
    tok.admin = await t.tokenFor(admin);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** A course with one lesson, one required quiz and one optional one; a fresh enrolled student. */
  async function course() {
    const student = await t.make.user({ displayName: 'Ada Lovelace' });
    const token = await t.tokenFor(student);
    const c = await t.make.course(owner.id, { title: 'Analytical Engines 101' });
    const lesson = await t.make.lesson(c.id);
    await t.make.enrollment(student.id, c.id);
    const required = await createQuiz({ gql }, tok.owner!, lesson.id, fourKinds({ required: true }));
    const optional = await createQuiz({ gql }, tok.owner!, lesson.id, fourKinds({ title: 'Optional' }));
    const pass = async (quiz = required) => {
      const attempt = (await gql(START, { q: quiz.id }, { token })).data.startQuizAttempt;
      const res = await gql(SUBMIT, { input: { attemptId: attempt.id, answers: rightAnswers(quiz) } }, { token });
      expect(res.data.submitQuizAttempt.passed).toBe(true);
    };
    return { student, token, c, lesson, required, optional, pass };
  }
  const certificatesOf = (courseId: string) =>
    queryRows<{ id: string; code: string }>(
      t.app.database.db,
      sql`select id, code from certificates where course_id = ${courseId}`,
    );

  it('issues one certificate when the last requirement is met, with its PDF, notification and email', async () => {
    const { student, token, c, lesson, pass } = await course();
    await pass();
    const mine = async () => (await gql(MINE, {}, { token })).data.me;
    expect((await mine()).enrollments.edges[0].node.progress).toMatchObject({
      requiredQuizzes: 1,
      passedRequiredQuizzes: 1,
      completed: false,
      completedAt: null,
    });
    expect(await certificatesOf(c.id)).toEqual([]);
    expect((await gql(MARK, { l: gid('Lesson', lesson.id) }, { token })).errors).toBeUndefined();

    const [cert] = await vi.waitFor(
      async () => {
        const rows = await certificatesOf(c.id);
        expect(rows).toHaveLength(1);
        return rows;
      },
      { timeout: 30_000, interval: 100 },
    );
    const me = await mine();
    expect(me.enrollments.edges[0].node.progress).toMatchObject({ completed: true });
    expect(me.enrollments.edges[0].node.progress.completedAt).not.toBeNull();
    expect(me.certificates).toHaveLength(1);
    const issued = me.certificates[0];
    expect(issued).toMatchObject({
      code: cert!.code,
      course: { title: 'Analytical Engines 101' },
      student: { displayName: 'Ada Lovelace' },
      revokedAt: null,
    });
    expect(issued.code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
    expect(issued.pdfUrl).toBe(`https://api.eduflow.test/certificates/${issued.code}.pdf`);

    // The PDF, public, parsed back.
    const pdf = await fetch(`${base}/certificates/${issued.code}.pdf`);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('cache-control')).toBe('public, max-age=300');
    const text = await pdfText(new Uint8Array(await pdf.arrayBuffer()));
    expect(text).toContain('Ada Lovelace');
    expect(text).toContain('Analytical Engines 101');
    expect(text).toContain(issued.code);
    expect(text).toContain(issued.pdfUrl);

    // In the app and by email, with the verification link.
    await vi.waitFor(
      async () => {
        const notes = (await gql(NOTES, {}, { token })).data.me.notifications.edges.map((e: any) => e.node);
        expect(notes.filter((n: any) => n.kind === 'CERTIFICATE_ISSUED')).toHaveLength(1);
        expect(smtp.received.filter((m) => m.to.includes(student.email))).toHaveLength(1);
      },
      { timeout: 30_000, interval: 100 },
    );
    const mail = smtp.received.find((m) => m.to.includes(student.email))!;
    expect(mail.raw.replace(/=\r?\n/g, '')).toContain(`/certificates/${issued.code}.pdf`);

    // Verifiable by anyone, in any case; revoked by an admin: invalid, and the PDF is gone.
    const verified = await gql(VERIFY, { code: issued.code.toLowerCase() });
    expect(verified.data.verifyCertificate).toMatchObject({
      valid: true,
      courseTitle: 'Analytical Engines 101',
      studentName: 'Ada Lovelace',
      revokedAt: null,
    });
    expect((await gql(VERIFY, { code: 'AAAA-BBBB-CCCC-DDDD-EEEE' })).data.verifyCertificate).toEqual({
      valid: false,
      courseTitle: null,
      studentName: null,
      issuedAt: null,
      revokedAt: null,
    });
    expect(codesOf(await gql(REVOKE, { id: gid('Certificate', cert!.id), reason: 'x' }, { token: tok.owner }))).toEqual(
      ['FORBIDDEN'],
    );
    const revoked = await gql(
      REVOKE,
      { id: gid('Certificate', cert!.id), reason: 'Issued in error' },
      { token: tok.admin },
    );
    expect(revoked.data.revokeCertificate.revokedAt).not.toBeNull();
    expect((await gql(VERIFY, { code: issued.code })).data.verifyCertificate).toMatchObject({ valid: false });
    expect((await fetch(`${base}/certificates/${issued.code}.pdf`)).status).toBe(404);
    expect((await fetch(`${base}/certificates/nope.pdf`)).status).toBe(404);
  }, 90_000);

  it('issues exactly once: unmarking and marking again, a second passing attempt and a re-run of the job add nothing', async () => {
    const { token, c, lesson, pass, optional } = await course();
    await gql(MARK, { l: gid('Lesson', lesson.id) }, { token });
    await pass();
    await vi.waitFor(async () => expect(await certificatesOf(c.id)).toHaveLength(1), {
      timeout: 30_000,
      interval: 100,
    });
    // Undoing a mark afterwards does not take the certificate back; completing again adds none.
    await gql(UNMARK, { l: gid('Lesson', lesson.id) }, { token });
    await gql(MARK, { l: gid('Lesson', lesson.id) }, { token });
    await pass();
    await pass(optional);
    const [event] = await queryRows<{ id: string; payload: any }>(
      t.app.database.db,
      sql`select id, payload from outbox where type = 'course.completed' and payload->>'courseId' = ${c.id}`,
    );
    // The job run again (a redelivery after a crash once it committed): nothing new.
    const bus = createEventBus(t.app.config, createLogger('silent'));
    const processors = new CertificateProcessors({
      db: t.app.database.db,
      bus,
      log: createLogger('silent'),
      pdfUrl: (code) => code,
    });
    await processors.issue({ eventId: event!.id, ...event!.payload });
    await bus.close();
    // Sentinel: the outbox has nothing left to do, so any duplicate would exist by now.
    await vi.waitFor(
      async () => {
        const [{ pending }] = (await queryRows<{ pending: number }>(
          t.app.database.db,
          sql`select count(*)::int as pending from outbox where processed_at is null and type in ('course.completed', 'certificate.issued')`,
        )) as [{ pending: number }];
        expect(pending).toBe(0);
      },
      { timeout: 30_000, interval: 100 },
    );
    expect(await certificatesOf(c.id)).toHaveLength(1);
    const [{ n }] = (await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from outbox where type = 'certificate.issued' and payload->>'courseId' = ${c.id}`,
    )) as [{ n: number }];
    expect(n).toBe(1);
    const me = (await gql(MINE, {}, { token })).data.me;
    expect(me.enrollments.edges[0].node.progress.completed).toBe(true);

    // The instructor's view: statistics and the gradebook.
    const stats = await gql(STATS, { c: gid('Course', c.id) }, { token: tok.owner });
    expect(stats.errors).toBeUndefined();
    expect(stats.data.course.stats).toEqual({ certificatesIssued: 1, averageQuizPercent: 100 });
    expect(stats.data.course.gradebook.totalCount).toBe(1);
    expect(stats.data.course.gradebook.edges[0].node).toMatchObject({
      quizBestPercents: [100, 100],
      certificate: { code: me.certificates[0].code },
      progress: { completed: true },
    });
    expect(codesOf(await gql(STATS, { c: gid('Course', c.id) }, { token }))).toContain('FORBIDDEN');
  }, 90_000);
});
