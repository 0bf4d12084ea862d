import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { rowsOf, type Db } from '../../db/client.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import { lessonEvents, lessons, type LessonEventRow, type LessonStatus } from '../../db/schema.js';

/**
 * Appends an event to the log, chained to the course's previous one (`prev_seq`). The caller
 * holds the course's row lock until it commits: the course's events are then committed in
 * `seq` order, and no two of them name the same predecessor.
 */
export async function insertLessonEvent(
  tx: Db,
  values: {
    courseId: string;
    lessonId: string;
    previousStatus: LessonStatus | null;
    status: LessonStatus;
    changedAt: Date;
    changedById: string;
  },
): Promise<LessonEventRow> {
  const prevSeq = sql<number>`(select max(e.seq) from lesson_events e where e.course_id = ${values.courseId})`;
  const [row] = await tx
    .insert(lessonEvents)
    .values({ ...values, prevSeq })
    .returning();
  return row!;
}

/**
 * Up to `limit` events after `afterSeq`, in order, of the given courses (null: every course),
 * of lessons that still exist (a deleted lesson is no longer visible to anyone).
 */
export async function lessonEventsAfter(
  db: Db,
  courseIds: string[] | null,
  afterSeq: number,
  limit: number,
): Promise<LessonEventRow[]> {
  if (courseIds !== null && courseIds.length === 0) return [];
  const rows = await db
    .select({ event: lessonEvents })
    .from(lessonEvents)
    .innerJoin(lessons, eq(lessons.id, lessonEvents.lessonId))
    .where(and(gt(lessonEvents.seq, afterSeq), courseIds ? anyUuid(lessonEvents.courseId, courseIds) : undefined))
    .orderBy(asc(lessonEvents.seq))
    .limit(limit);
  return rows.map((r) => r.event);
}

/** Where `seq` stands in the retained log: present, older than everything kept, or never issued. */
export async function lessonEventCursorState(db: Db, seq: number): Promise<'VALID' | 'EXPIRED' | 'UNKNOWN'> {
  const [row] = await db
    .select({
      min: sql<number | null>`min(${lessonEvents.seq})`.mapWith((v) => (v === null ? null : Number(v))),
      max: sql<number | null>`max(${lessonEvents.seq})`.mapWith((v) => (v === null ? null : Number(v))),
      found: sql<boolean>`bool_or(${lessonEvents.seq} = ${seq})`,
    })
    .from(lessonEvents);
  if (row?.found) return 'VALID';
  if (row?.min === null || row?.min === undefined || seq < row.min) return 'EXPIRED';
  return 'UNKNOWN';
}

/** The log keeps `days` days of events (at least one: cursors stay valid 24 hours). */
export function deleteOldLessonEvents(db: Db, days: number): Promise<number> {
  return deleteInBatches(
    db,
    lessonEvents,
    lessonEvents.seq,
    sql`${lessonEvents.createdAt} < now() - make_interval(days => ${Math.max(1, days)})`,
  );
}

/** How many events `lessonEventsAfter` would return, counting no further than `cap`. */
export async function countLessonEventsAfter(
  db: Db,
  courseIds: string[] | null,
  afterSeq: number,
  cap: number,
): Promise<number> {
  if (courseIds !== null && courseIds.length === 0) return 0;
  const inner = db
    .select({ one: sql`1` })
    .from(lessonEvents)
    .where(and(gt(lessonEvents.seq, afterSeq), courseIds ? anyUuid(lessonEvents.courseId, courseIds) : undefined))
    .limit(cap)
    .as('pending');
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(inner);
  return row?.n ?? 0;
}

/** The last event logged of a course (null: of any course); 0 when none. */
export async function lastLessonEventSeq(db: Db, courseId: string | null): Promise<number> {
  const [row] = await db
    .select({ seq: lessonEvents.seq })
    .from(lessonEvents)
    .where(courseId === null ? undefined : eq(lessonEvents.courseId, courseId))
    .orderBy(desc(lessonEvents.seq))
    .limit(1);
  return row?.seq ?? 0;
}

/**
 * The last event logged of each of `courseIds` (absent: none logged), and of any course
 * (`all`): one statement, an index-only lookup per course (lesson_events_course_id_seq_idx).
 */
export async function lastLessonEventSeqs(
  db: Db,
  courseIds: readonly string[],
): Promise<{ byCourse: Map<string, number>; all: number }> {
  const rows = await db.execute(sql`
    select c.id::text as course_id,
           (select max(e.seq) from lesson_events e where e.course_id = c.id) as seq
      from unnest(${`{${courseIds.join(',')}}`}::uuid[]) as c(id)
    union all
    select null, (select max(seq) from lesson_events)`);
  const byCourse = new Map<string, number>();
  let all = 0;
  for (const row of rowsOf<{ course_id: string | null; seq: string | number | null }>(rows)) {
    if (row.seq === null) continue;
    if (row.course_id === null) all = Number(row.seq);
    else byCourse.set(row.course_id, Number(row.seq));
  }
  return { byCourse, all };
}
