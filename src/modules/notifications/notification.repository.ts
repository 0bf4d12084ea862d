import { and, asc, count, eq, gt, inArray, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import { rowsOf, type Db } from '../../db/client.js';
import {
  courses,
  enrollments,
  lessons,
  notifications,
  users,
  type LessonStatus,
  type NotificationRow,
} from '../../db/schema.js';
import { keysetCondition, keysetOrder, type PageRequest, type SortSpec } from '../../graphql/pagination.js';
import type {
  CertificateIssuedEvent,
  CourseAccessGrantedEvent,
  DomainEvent,
  ReviewPostedEvent,
  UserRegisteredEvent,
} from '../../outbox/domain-events.js';

/** Events whose recipients are a course's students. */
/** Events about one person: they notify that user alone. */
type PersonalEvent = CertificateIssuedEvent | ReviewPostedEvent | CourseAccessGrantedEvent;
type CourseEvent = Exclude<DomainEvent, UserRegisteredEvent | PersonalEvent>;
import type { RecipientRange } from '../../queue/jobs.js';
import type { NotificationContent, Subject } from './notification.content.js';

export const notificationSort: SortSpec<NotificationRow> = {
  key: 'userNotifications:CREATED_AT:DESC',
  column: notifications.createdAt,
  idColumn: notifications.id,
  kind: 'timestamp',
  direction: 'DESC',
  valueOf: (n) => n.createdAt,
  idOf: (n) => n.id,
};

/**
 * The recipients of an event, as a query over enrollments: the student who enrolled, or every
 * actively enrolled student of the lesson's course, within `range` (ids: from inclusive, to
 * exclusive). Re-evaluated by each batch, so a batch run twice or after a crash sees the same
 * recipients a first run would.
 */
function recipientsWhere(event: CourseEvent, range: RecipientRange): SQL {
  const base =
    event.type === 'enrollment.confirmed'
      ? and(eq(enrollments.id, event.enrollmentId), eq(enrollments.studentId, event.studentId))
      : eq(enrollments.courseId, event.courseId);
  return and(
    base,
    eq(enrollments.status, 'ACTIVE'),
    range.from ? sql`${enrollments.studentId} >= ${range.from}` : undefined,
    range.to ? sql`${enrollments.studentId} < ${range.to}` : undefined,
  )!;
}

function isPersonal(event: DomainEvent): event is PersonalEvent {
  return (
    event.type === 'certificate.issued' || event.type === 'course.access-granted' || event.type === 'review.posted'
  );
}

/** The one user a personal event notifies (a certificate's student, a reviewed course's instructor, a student given access). */
function recipientOf(event: PersonalEvent): string {
  return event.type === 'review.posted' ? event.instructorId : event.studentId;
}

/**
 * Splits an event's recipients into ranges of at most `size` students: the id of every
 * size-th student (in id order) starts a new range. One statement, however many students.
 */
export async function recipientRanges(db: Db, event: DomainEvent, size: number): Promise<RecipientRange[]> {
  // One recipient each.
  if (event.type === 'user.registered' || isPersonal(event)) return [{ from: null, to: null }];
  const ranked = db
    .select({
      id: enrollments.studentId,
      rn: sql<number>`row_number() over (order by ${enrollments.studentId})`.as('rn'),
    })
    .from(enrollments)
    .where(recipientsWhere(event, { from: null, to: null }))
    .as('ranked');
  const rows = await db
    .select({ id: ranked.id })
    .from(ranked)
    .where(sql`${ranked.rn} > 1 and (${ranked.rn} - 1) % ${size} = 0`)
    .orderBy(ranked.id);
  const starts = [null, ...rows.map((r) => r.id)];
  return starts.map((from, i) => ({ from, to: starts[i + 1] ?? null }));
}

/** Course and lesson titles for the notification text (null when the course is gone). */
export async function findSubject(db: Db, event: DomainEvent): Promise<Subject | null> {
  if (event.type === 'user.registered') return { courseTitle: '', lessonTitle: null }; // about no course
  const lessonId = 'lessonId' in event ? event.lessonId : null;
  const [row] = await db
    .select({ courseTitle: courses.title, lessonTitle: lessonId ? lessons.title : sql<null>`null` })
    .from(courses)
    .leftJoin(lessons, lessonId ? eq(lessons.id, lessonId) : sql`false`)
    .where(eq(courses.id, event.courseId));
  return row ?? null;
}

/**
 * One multi-row INSERT ... SELECT for a batch. The unique (event, recipient) key makes it
 * idempotent: run twice, the second run inserts nothing and returns nothing.
 */
export async function insertNotifications(
  db: Db,
  eventId: string,
  event: DomainEvent,
  range: RecipientRange,
  content: NotificationContent,
): Promise<Array<{ id: string; recipientId: string }>> {
  if (event.type === 'user.registered') {
    // The new user themself, if the account still exists.
    const welcomed = await db.execute(sql`
      insert into ${notifications} (event_id, recipient_id, kind, title, body)
      select ${eventId}::uuid, ${users.id}, ${content.kind}::notification_kind, ${content.title}::text, ${content.body}::text
      from ${users} where ${users.id} = ${event.userId}::uuid
      on conflict (event_id, recipient_id) do nothing
      returning id, recipient_id`);
    return rowsOf<{ id: string; recipient_id: string }>(welcomed).map((r) => ({
      id: r.id,
      recipientId: r.recipient_id,
    }));
  }
  if (isPersonal(event)) {
    // One user, whether or not enrolled (a certificate's student, a reviewed course's
    // instructor, a student given access).
    const issued = await db.execute(sql`
      insert into ${notifications} (event_id, recipient_id, kind, title, body, course_id)
      select ${eventId}::uuid, ${users.id}, ${content.kind}::notification_kind, ${content.title}::text, ${content.body}::text,
             (select ${courses.id} from ${courses} where ${courses.id} = ${event.courseId}::uuid)
      from ${users} where ${users.id} = ${recipientOf(event)}::uuid
      on conflict (event_id, recipient_id) do nothing
      returning id, recipient_id`);
    return rowsOf<{ id: string; recipient_id: string }>(issued).map((r) => ({ id: r.id, recipientId: r.recipient_id }));
  }
  const lessonId = 'lessonId' in event ? event.lessonId : null;
  const result = await db.execute<{ id: string; recipient_id: string }>(sql`
    insert into ${notifications} (event_id, recipient_id, kind, title, body, course_id, lesson_id)
    select ${eventId}::uuid, ${enrollments.studentId}, ${content.kind}::notification_kind, ${content.title}::text, ${content.body}::text,
           ${event.courseId}::uuid,
           (select ${lessons.id} from ${lessons} where ${lessons.id} = ${lessonId}::uuid)
    from ${enrollments}
    where ${recipientsWhere(event, range)}
    on conflict (event_id, recipient_id) do nothing
    returning id, recipient_id`);
  return rowsOf<{ id: string; recipient_id: string }>(result).map((r) => ({ id: r.id, recipientId: r.recipient_id }));
}

export interface PendingEmail {
  id: string;
  email: string;
  displayName: string;
  title: string;
  body: string;
  courseSlug: string | null;
}

/** The range's part of a recipient filter on notifications. */
function rangeOfNotifications(range: RecipientRange): SQL {
  return sql`${range.from ? sql`and ${notifications.recipientId} >= ${range.from}::uuid` : sql``}
    ${range.to ? sql`and ${notifications.recipientId} < ${range.to}::uuid` : sql``}`;
}

/**
 * Claims for run `runId` up to `limit` notifications of one batch that are still owed an email
 * and not claimed by another live run (a claim whose lease ran out is free), for `leaseMs`
 * from now. Two runs of an email job (a retry racing a stalled original, overlapping ranges)
 * never get the same row; a crashed run's rows are free again once its lease runs out.
 */
export async function claimEmails(
  db: Db,
  eventId: string,
  range: RecipientRange,
  limit: number,
  leaseMs: number,
  runId: string,
): Promise<PendingEmail[]> {
  const result = await db.execute(sql`
    with claimable as (
      select ${notifications.id} from ${notifications}
      where ${notifications.eventId} = ${eventId}::uuid and ${notifications.emailedAt} is null
        and (${notifications.emailClaimedUntil} is null or ${notifications.emailClaimedUntil} < now())
        ${rangeOfNotifications(range)}
      order by ${notifications.id}
      limit ${limit}
      for update skip locked)
    update ${notifications} n set email_claimed_until = now() + make_interval(secs => ${leaseMs / 1000}), email_claimed_by = ${runId}::uuid
    from claimable c, ${users} u
    where n.id = c.id and u.id = n.recipient_id
    returning n.id, u.email, u.display_name, n.title, n.body, (select slug from ${courses} where ${courses.id} = n.course_id) as course_slug`);
  return rowsOf<{
    id: string;
    email: string;
    display_name: string;
    title: string;
    body: string;
    course_slug: string | null;
  }>(result).map((r) => ({
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    title: r.title,
    body: r.body,
    courseSlug: r.course_slug,
  }));
}

/** Extends the leases of the rows run `runId` still holds (and has not mailed). */
export async function renewEmailClaims(db: Db, runId: string, leaseMs: number): Promise<void> {
  await db
    .update(notifications)
    .set({ emailClaimedUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where(and(eq(notifications.emailClaimedBy, runId), isNull(notifications.emailedAt)));
}

/** Stamps one notification as mailed (right after the mail server accepted it). */
export async function markEmailed(db: Db, id: string): Promise<void> {
  await db
    .update(notifications)
    .set({ emailedAt: new Date(), emailClaimedUntil: null, emailClaimedBy: null })
    .where(eq(notifications.id, id));
}

/**
 * Gives up run `runId`'s claims on rows it did not mail, so a retry can take them at once.
 * A claim another run holds by now (this run's lease ran out) is not touched.
 */
export async function releaseEmailClaims(db: Db, runId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db
    .update(notifications)
    .set({ emailClaimedUntil: null, emailClaimedBy: null })
    .where(
      and(inArray(notifications.id, ids), eq(notifications.emailClaimedBy, runId), isNull(notifications.emailedAt)),
    );
}

/**
 * What of a batch is still owed an email although no row could be claimed: rows another run
 * holds, and how long until the first of those leases runs out (null when nothing is owed).
 */
export async function emailsStillOwed(
  db: Db,
  eventId: string,
  range: RecipientRange,
): Promise<{ owed: number; msUntilFree: number | null }> {
  const result = await db.execute(sql`
    select count(*)::int as owed,
           ceil(extract(epoch from (min(${notifications.emailClaimedUntil}) - now())) * 1000)::int as ms_until_free
    from ${notifications}
    where ${notifications.eventId} = ${eventId}::uuid and ${notifications.emailedAt} is null ${rangeOfNotifications(range)}`);
  const [row] = rowsOf<{ owed: number; ms_until_free: number | null }>(result);
  return { owed: row?.owed ?? 0, msUntilFree: row?.owed ? Math.max(0, row.ms_until_free ?? 0) : null };
}

/**
 * Events with notifications still owed an email although their jobs should have mailed them
 * by now (an email job lost with Redis data, or given up): for the sweep to queue again.
 */
export async function eventsOwedEmails(
  db: Db,
  olderThanMinutes: number,
  withinHours: number,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ eventId: notifications.eventId })
    .from(notifications)
    .where(
      and(
        isNull(notifications.emailedAt),
        sql`${notifications.createdAt} < now() - make_interval(mins => ${olderThanMinutes})`,
        sql`${notifications.createdAt} > now() - make_interval(hours => ${withinHours})`,
        sql`(${notifications.emailClaimedUntil} is null or ${notifications.emailClaimedUntil} < now())`,
      ),
    )
    .limit(limit);
  return rows.map((r) => r.eventId);
}

export async function findNotificationsByIds(db: Db, ids: string[], recipientId: string): Promise<NotificationRow[]> {
  return db
    .select()
    .from(notifications)
    .where(and(inArray(notifications.id, ids), eq(notifications.recipientId, recipientId)));
}

export function notificationPage(
  db: Db,
  recipientId: string,
  unreadOnly: boolean,
  page: PageRequest,
): Promise<NotificationRow[]> {
  return db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.recipientId, recipientId),
        unreadOnly ? isNull(notifications.readAt) : undefined,
        keysetCondition(notificationSort, page),
      ),
    )
    .orderBy(...keysetOrder(notificationSort, page))
    .limit(page.size + 1);
}

export async function countNotifications(db: Db, recipientId: string, unreadOnly: boolean): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.recipientId, recipientId), unreadOnly ? isNull(notifications.readAt) : undefined));
  return row?.n ?? 0;
}

/** Marks the recipient's own unread notifications among `ids` read; returns how many changed. */
export async function markRead(db: Db, recipientId: string, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const rows = await db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(
      and(inArray(notifications.id, ids), eq(notifications.recipientId, recipientId), isNull(notifications.readAt)),
    )
    .returning({ id: notifications.id });
  return rows.length;
}

/** Read notifications older than `days` days, in bounded batches. */
export function deleteOldReadNotifications(db: Db, days: number): Promise<number> {
  return deleteInBatches(
    db,
    notifications,
    notifications.id,
    lt(notifications.readAt, sql`now() - make_interval(days => ${days})`),
  );
}

/** What a lesson's reminder depends on: its course, status and time. */
export async function lessonSchedule(
  db: Db,
  lessonId: string,
): Promise<{ courseId: string; status: LessonStatus; scheduledAt: Date | null } | undefined> {
  const [row] = await db
    .select({ courseId: lessons.courseId, status: lessons.status, scheduledAt: lessons.scheduledAt })
    .from(lessons)
    .where(eq(lessons.id, lessonId));
  return row;
}

/** SCHEDULED lessons due after `after`, soonest first, at most `limit`. */
export function scheduledLessonsAfter(
  db: Db,
  after: Date,
  limit: number,
): Promise<Array<{ id: string; scheduledAt: Date | null }>> {
  return db
    .select({ id: lessons.id, scheduledAt: lessons.scheduledAt })
    .from(lessons)
    .where(and(eq(lessons.status, 'SCHEDULED'), gt(lessons.scheduledAt, after)))
    .orderBy(asc(lessons.scheduledAt))
    .limit(limit);
}
