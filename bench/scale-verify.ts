/**
 * The checks at the end of `npm run bench:scale`, all against the primary: acknowledged writes
 * present, notifications once in-app and at least once by email, every subscriber's events
 * exactly once and in order against the lesson_events log.
 */
import type postgres from 'postgres';
import type { LiveSubscriber } from './scale-clients.js';
import { NOTIFIES, type Acknowledged } from './scale-load.js';
import type { Seeded } from './scale-seed.js';
import { sleep, summarize } from './lib.js';

interface Input {
  sql: postgres.Sql;
  seeded: Seeded;
  ack: Acknowledged;
  subscribers: LiveSubscriber[];
  sink: { received: Map<string, number>; messages: () => number };
  baseline: Map<string, number>;
  /** The phase an instant (epoch ms) fell in. */
  phaseOf: (at: number) => string;
}

const EVENT_STATUS = {
  create: { status: 'SCHEDULED', previous: null },
  schedule: { status: 'SCHEDULED', previous: 'SCHEDULED' },
  start: { status: 'IN_PROGRESS', previous: 'SCHEDULED' },
  complete: { status: 'COMPLETED', previous: 'IN_PROGRESS' },
  cancel: { status: 'CANCELLED', previous: null },
} as const;

async function loggedEvents(sql: postgres.Sql, baseline: Map<string, number>) {
  const rows = await sql<{ seq: string; course_id: string; changed_at: Date }[]>`
    select seq, course_id, changed_at from lesson_events where course_id = any(${[...baseline.keys()]}::uuid[]) order by seq`;
  const byCourse = new Map<string, number[]>();
  const changedAt = new Map<number, number>();
  for (const r of rows) {
    const seq = Number(r.seq);
    if (seq <= baseline.get(r.course_id)!) continue;
    byCourse.set(r.course_id, [...(byCourse.get(r.course_id) ?? []), seq]);
    changedAt.set(seq, r.changed_at.getTime());
  }
  return { byCourse, changedAt };
}

export async function verify({ sql, seeded, ack, subscribers, sink, baseline, phaseOf }: Input) {
  // Settle: subscribers up to the last event of their course, notifications written and mailed.
  let log = await loggedEvents(sql, baseline);
  const settleStarted = Date.now();
  const caughtUp = () =>
    subscribers.every((s) => {
      const last = log.byCourse.get(s.courseId)?.at(-1);
      return last === undefined || s.seqs.includes(last);
    });
  // Until every subscriber has its course's last event, or 20 s pass with nothing arriving.
  const arrived = () => subscribers.reduce((n, s) => n + s.seqs.length, 0);
  for (let last = arrived(), quietSince = Date.now(); !caughtUp() && Date.now() - quietSince < 20_000;) {
    await sleep(500);
    if (arrived() !== last) [last, quietSince] = [arrived(), Date.now()];
  }
  const subscribersSettledMs = Date.now() - settleStarted;

  const expected = new Map<string, { recipients: string[]; kind: string }>();
  for (const a of ack.lessons) {
    const kind = NOTIFIES[a.op];
    if (kind) expected.set(`${kind}|${a.lessonId}`, { kind, recipients: seeded.studentsOf.get(a.courseId)! });
  }
  for (const e of ack.enrollments)
    expected.set(`ENROLLMENT_CONFIRMED|${e.courseId}|${e.studentId}`, {
      kind: 'ENROLLMENT_CONFIRMED',
      recipients: [e.studentId],
    });
  const expectedRows = [...expected.values()].reduce((n, e) => n + e.recipients.length, 0);
  const notifyStarted = Date.now();
  for (;;) {
    const [c] = await sql<{ total: number; unmailed: number; outbox: number }[]>`
      select (select count(*)::int from notifications) as total,
             (select count(*)::int from notifications where emailed_at is null) as unmailed,
             (select count(*)::int from outbox where processed_at is null) as outbox`;
    if (
      (c!.total >= expectedRows && c!.unmailed === 0 && c!.outbox === 0 && sink.messages() >= c!.total) ||
      Date.now() - notifyStarted > 180_000
    )
      break;
    await sleep(1_000);
  }
  await sleep(2_000); // a duplicate email, if any, would arrive now
  const notificationsSettledMs = Date.now() - notifyStarted;

  // Acknowledged writes.
  const missing: Record<string, number> = {};
  const miss = (what: string) => (missing[what] = (missing[what] ?? 0) + 1);
  const lessonIds = [...new Set(ack.lessons.map((a) => a.lessonId))];
  const events = await sql<{ lesson_id: string; status: string; previous_status: string | null }[]>`
    select lesson_id, status, previous_status from lesson_events where lesson_id = any(${lessonIds}::uuid[])`;
  const eventKeys = new Set(events.map((e) => `${e.lesson_id}|${e.status}|${e.previous_status}`));
  const hasEventTo = new Set(events.map((e) => `${e.lesson_id}|${e.status}`));
  const lessonRows = new Set(
    (await sql<{ id: string }[]>`select id from lessons where id = any(${lessonIds}::uuid[])`).map((r) => r.id),
  );
  for (const a of ack.lessons) {
    const want = EVENT_STATUS[a.op];
    const found =
      want.previous === null && a.op === 'cancel'
        ? hasEventTo.has(`${a.lessonId}|${want.status}`)
        : eventKeys.has(`${a.lessonId}|${want.status}|${want.previous}`);
    if (!found || !lessonRows.has(a.lessonId)) miss(`${a.op}Lesson`);
  }
  const enrolled = new Set(
    (
      await sql<{ k: string }[]>`select student_id || '|' || course_id as k from enrollments where status = 'ACTIVE'`
    ).map((r) => r.k),
  );
  for (const e of ack.enrollments) if (!enrolled.has(`${e.studentId}|${e.courseId}`)) miss('enroll');
  const marked = new Set(
    (await sql<{ k: string }[]>`select student_id || '|' || lesson_id as k from lesson_completions`).map((r) => r.k),
  );
  for (const m of ack.marks) if (!marked.has(`${m.studentId}|${m.lessonId}`)) miss('markLessonCompleted');
  const titles = await sql<
    { id: string; title: string }[]
  >`select id, title from courses where id = any(${[...ack.titles.keys()]}::uuid[])`;
  for (const c of titles) if (Number(/ v(\d+)$/.exec(c.title)?.[1] ?? 0) < ack.titles.get(c.id)!) miss('updateCourse');
  const acknowledged = {
    createLesson: ack.lessons.filter((a) => a.op === 'create').length,
    lessonTransitions: ack.lessons.filter((a) => a.op !== 'create').length,
    enroll: ack.enrollments.length,
    markLessonCompleted: ack.marks.length,
    updateCourse: [...ack.titles.values()].reduce((n, v) => n + v, 0),
  };

  // Notifications: in-app once per (recipient, event), email at least once.
  const rows = await sql<
    {
      recipient_id: string;
      kind: string;
      lesson_id: string | null;
      course_id: string | null;
      title: string;
      email: string;
      emailed: boolean;
    }[]
  >`
    select n.recipient_id, n.kind, n.lesson_id, n.course_id, n.title, u.email, n.emailed_at is not null as emailed
    from notifications n join users u on u.id = n.recipient_id`;
  const perKey = new Map<string, number>();
  const keyOf = (kind: string, lessonId: string | null, courseId: string | null, recipient: string) =>
    kind === 'ENROLLMENT_CONFIRMED' ? `${kind}|${courseId}|${recipient}` : `${kind}|${lessonId}|${recipient}`;
  for (const r of rows) {
    const k = keyOf(r.kind, r.lesson_id, r.course_id, r.recipient_id);
    perKey.set(k, (perKey.get(k) ?? 0) + 1);
  }
  let inAppMissing = 0;
  for (const [key, e] of expected)
    for (const recipient of e.recipients) {
      const k = e.kind === 'ENROLLMENT_CONFIRMED' ? key : `${key}|${recipient}`;
      if (!perKey.get(k)) inAppMissing++;
    }
  const inAppDuplicates = [...perKey.values()].filter((n) => n > 1).reduce((n, c) => n + c - 1, 0);
  let emailMissing = 0;
  let emailDuplicates = 0;
  for (const r of rows) {
    const got = sink.received.get(`${r.email.toLowerCase()}\n${r.title}`) ?? 0;
    if (got === 0) emailMissing++;
    else emailDuplicates += got - 1;
  }
  const notifications = {
    expected: expectedRows,
    rows: rows.length,
    unexpectedRows: rows.length - expectedRows - inAppDuplicates + inAppMissing,
    inAppMissing,
    inAppDuplicates,
    emailsReceived: sink.messages(),
    emailMissing,
    emailDuplicates,
    stampedEmailed: rows.filter((r) => r.emailed).length,
  };

  // Live: every event of the course after the subscriber's starting cursor, once, in order.
  log = await loggedEvents(sql, baseline);
  let exact = 0;
  let resumedExact = 0;
  let withMissing = 0;
  let withDuplicates = 0;
  let outOfOrder = 0;
  let eventsMissing = 0;
  let eventsDuplicated = 0;
  let unexpected = 0;
  const lags: Array<{ changedAt: number; lag: number }> = [];
  /** Events never delivered, by the phase they were committed in. */
  const missingByPhase: Record<string, number> = {};
  let withMissingReconnected = 0;
  /** Every subscriber that missed events, for SCALE_DEBUG. */
  const debug: unknown[] = [];
  let withMissingNeverReconnected = 0;
  const problems: string[] = [];
  for (const s of subscribers) {
    const want = log.byCourse.get(s.courseId) ?? [];
    const wanted = new Set(want);
    const got = new Set<number>();
    let dup = 0;
    let unordered = false;
    s.seqs.forEach((seq, i) => {
      if (got.has(seq)) dup++;
      else {
        const changedAt = log.changedAt.get(seq);
        if (changedAt !== undefined) lags.push({ changedAt, lag: s.arrivals[i]! - changedAt });
      }
      if (i > 0 && seq <= s.seqs[i - 1]!) unordered = true;
      if (!wanted.has(seq)) unexpected++;
      got.add(seq);
    });
    const lostSeqs = want.filter((seq) => !got.has(seq));
    const lost = lostSeqs.length;
    for (const seq of lostSeqs) {
      const p = phaseOf(log.changedAt.get(seq)!);
      missingByPhase[p] = (missingByPhase[p] ?? 0) + 1;
    }
    if (lost) {
      debug.push({
        courseId: s.courseId,
        firstApi: s.firstApiUrl,
        lastApi: s.apiUrl,
        reconnects: s.reconnects,
        missing: lostSeqs.map((seq) => `${seq}@${phaseOf(log.changedAt.get(seq)!)}`),
        received: s.seqs,
      });
      if (s.reconnects) withMissingReconnected++;
      else withMissingNeverReconnected++;
    }
    eventsMissing += lost;
    eventsDuplicated += dup;
    if (lost) withMissing++;
    if (dup) withDuplicates++;
    if (unordered) outOfOrder++;
    if (!lost && !dup && !unordered && s.seqs.length === want.length) {
      if (s.reconnects) resumedExact++;
      else exact++;
    } else if (problems.length < 10)
      problems.push(
        `student ${s.studentId} course ${s.courseId}: ${lost} missing, ${dup} twice, ${unordered ? 'out of order' : 'in order'}, reconnects ${s.reconnects}, errors ${s.errors.slice(0, 2).join(' / ')}`,
      );
  }
  lags.sort((a, b) => a.changedAt - b.changedAt);
  const live = {
    subscribers: subscribers.length,
    eventsLogged: [...log.byCourse.values()].reduce((n, xs) => n + xs.length, 0),
    deliveriesExpected: subscribers.reduce((n, s) => n + (log.byCourse.get(s.courseId)?.length ?? 0), 0),
    exactNeverReconnected: exact,
    exactAfterReconnecting: resumedExact,
    reconnections: subscribers.reduce((n, s) => n + s.reconnects, 0),
    resumedWithAfter: subscribers.reduce((n, s) => n + s.resumes, 0),
    withMissing,
    withMissingNeverReconnected,
    withMissingReconnected,
    eventsMissing,
    missingByPhase,
    withDuplicates,
    eventsDuplicated,
    outOfOrder,
    unexpected,
    serverErrors: subscribers.reduce((n, s) => n + s.errors.length, 0),
    problems,
  };

  const summary = {
    acknowledged,
    acknowledgedMissing: missing,
    notifications,
    live,
    subscribersSettledMs,
    notificationsSettledMs,
  };
  const ok =
    Object.keys(missing).length === 0 &&
    inAppMissing === 0 &&
    inAppDuplicates === 0 &&
    emailMissing === 0 &&
    // No process dies between an SMTP accept and its stamp here (the documented window).
    emailDuplicates === 0 &&
    exact + resumedExact === subscribers.length;
  return {
    ok,
    summary,
    debug,
    live: {
      /** p50/p99 of commit → arrival for events committed in [from, to). */
      lagByPhase(from: number, to: number) {
        const xs = lags.filter((l) => l.changedAt >= from && l.changedAt < to).map((l) => l.lag);
        const { p50, p99, max } = summarize(xs);
        return { deliveries: xs.length, p50, p99, max };
      },
    },
  };
}
