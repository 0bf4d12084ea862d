import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/any-uuid.js';
import { rowsOf, type Db } from '../../db/client.js';
import { pagesByParent } from '../../db/paged-by-parent.js';
import { enrollmentSort } from '../enrollments/index.js';
import {
  certificates,
  courseCompletions,
  courses,
  users,
  type Role,
  enrollments,
  lessonCompletions,
  lessons,
  quizAttempts,
  quizQuestions,
  quizzes,
  type AttemptRow,
  type EnrollmentRow,
  type QuestionRow,
  type QuizRow,
} from '../../db/schema.js';
import type { PageRequest, SortSpec } from '../../graphql/pagination.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import type { Grade } from './quiz.grading.js';
import type { AttemptStatus, StoredAnswer } from './quiz.table.js';
import type { QuestionDraft, QuizSettings } from './quiz.validation.js';

/** A submission is accepted this long after the attempt's deadline (network latency, slow clients). */
const ATTEMPT_GRACE_MS = 5_000;
const GRACE_SECONDS = ATTEMPT_GRACE_MS / 1000;

/** `Quiz.attempts`: newest first. */
export const attemptSort: SortSpec<AttemptRow> = {
  key: 'quizAttempts:STARTED_AT:DESC',
  column: quizAttempts.startedAt,
  idColumn: quizAttempts.id,
  kind: 'timestamp',
  direction: 'DESC',
  valueOf: (a) => a.startedAt,
  idOf: (a) => a.id,
};

/** `Course.gradebook`: the course's active enrollments, most recent first (its own cursors). */
export const gradebookSort: SortSpec<EnrollmentRow> = enrollmentSort('gradebook');

// --- authoring ---------------------------------------------------------------------------

export async function insertQuiz(
  tx: Db,
  values: { courseId: string; lessonId: string } & QuizSettings & { title: string },
  drafts: QuestionDraft[],
): Promise<QuizRow> {
  const [quiz] = await tx
    .insert(quizzes)
    .values({
      ...values,
      questionCount: drafts.length,
      totalPoints: drafts.reduce((n, q) => n + q.points, 0),
    })
    .returning();
  await tx.insert(quizQuestions).values(drafts.map((d) => ({ ...d, quizId: quiz!.id })));
  return quiz!;
}

/** Replaces every question of a quiz (answers saved to the old ones in open attempts go with them). */
export async function replaceQuestions(tx: Db, quizId: string, drafts: QuestionDraft[]): Promise<void> {
  await tx.delete(quizQuestions).where(eq(quizQuestions.quizId, quizId));
  await tx.insert(quizQuestions).values(drafts.map((d) => ({ ...d, quizId })));
  await tx
    .update(quizzes)
    .set({ questionCount: drafts.length, totalPoints: drafts.reduce((n, q) => n + q.points, 0) })
    .where(eq(quizzes.id, quizId));
  // Answers of attempts in progress that name questions now gone are dropped.
  await tx
    .update(quizAttempts)
    .set({ answers: {} })
    .where(and(eq(quizAttempts.quizId, quizId), eq(quizAttempts.status, 'IN_PROGRESS')));
}

export async function updateQuizSettings(tx: Db, quizId: string, settings: QuizSettings): Promise<void> {
  if (Object.keys(settings).length) await tx.update(quizzes).set(settings).where(eq(quizzes.id, quizId));
}

/** The quiz row, locked for the rest of the transaction (authoring writes queue up behind each other). */
export async function lockQuiz(tx: Db, quizId: string): Promise<QuizRow | undefined> {
  const [row] = await tx.select().from(quizzes).where(eq(quizzes.id, quizId)).for('update');
  return row;
}

/** Whether any attempt at the quiz was graded (submitted or expired): its questions are frozen. */
export async function hasGradedAttempt(tx: Db, quizId: string): Promise<boolean> {
  const rows = rowsOf<{ n: number }>(
    await tx.execute(sql`select count(*)::int as n from ${quizAttempts}
      where ${quizAttempts.quizId} = ${quizId}::uuid and ${quizAttempts.status} <> 'IN_PROGRESS' limit 1`),
  );
  return (rows[0]?.n ?? 0) > 0;
}

/** Whether a certificate of the course was issued to a student who passed this required quiz. */
export async function countedByCertificate(tx: Db, quiz: QuizRow): Promise<boolean> {
  if (!quiz.required) return false;
  const rows = rowsOf<{ found: boolean }>(
    await tx.execute(sql`select exists (
      select 1 from ${certificates} c
      join ${quizAttempts} a on a.student_id = c.student_id and a.quiz_id = ${quiz.id}::uuid and a.passed
      where c.course_id = ${quiz.courseId}::uuid) as found`),
  );
  return rows[0]?.found ?? false;
}

/**
 * The quiz, share-locked while an attempt is graded: an edit of its questions (which takes
 * the row's update lock) waits for the grading, and a grading waits for an edit in flight.
 */
export async function lockQuizForGrading(tx: Db, quizId: string): Promise<QuizRow | undefined> {
  const [row] = await tx.select().from(quizzes).where(eq(quizzes.id, quizId)).for('share');
  return row;
}

export function questionsOf(tx: Db, quizId: string): Promise<QuestionRow[]> {
  return tx.select().from(quizQuestions).where(eq(quizQuestions.quizId, quizId)).orderBy(asc(quizQuestions.position));
}

export async function deleteQuizRow(tx: Db, quizId: string): Promise<void> {
  await tx.delete(quizzes).where(eq(quizzes.id, quizId));
}

// --- reads -------------------------------------------------------------------------------

export function findQuizzesByIds(db: Db, ids: string[]): Promise<QuizRow[]> {
  return db.select().from(quizzes).where(anyUuid(quizzes.id, ids));
}

export async function quizzesByLessons(db: Db, lessonIds: string[]): Promise<Map<string, QuizRow[]>> {
  const rows = await db
    .select()
    .from(quizzes)
    .where(anyUuid(quizzes.lessonId, lessonIds))
    .orderBy(asc(quizzes.createdAt), asc(quizzes.id));
  return groupBy(rows, (r) => r.lessonId);
}

/** A course's quizzes in lesson order (then creation order): the gradebook's columns. */
export async function quizzesByCourses(db: Db, courseIds: string[]): Promise<Map<string, QuizRow[]>> {
  const rows = await db
    .select({ quiz: quizzes })
    .from(quizzes)
    .innerJoin(lessons, eq(lessons.id, quizzes.lessonId))
    .where(anyUuid(quizzes.courseId, courseIds))
    .orderBy(asc(lessons.position), asc(lessons.createdAt), asc(quizzes.createdAt), asc(quizzes.id));
  return groupBy(
    rows.map((r) => r.quiz),
    (r) => r.courseId,
  );
}

export async function questionsByQuizzes(db: Db, quizIds: string[]): Promise<Map<string, QuestionRow[]>> {
  const rows = await db
    .select()
    .from(quizQuestions)
    .where(anyUuid(quizQuestions.quizId, quizIds))
    .orderBy(asc(quizQuestions.quizId), asc(quizQuestions.position));
  return groupBy(rows, (r) => r.quizId);
}

export function findAttemptsByIds(db: Db, ids: string[]): Promise<AttemptRow[]> {
  return db.select().from(quizAttempts).where(anyUuid(quizAttempts.id, ids));
}

/** One student's attempts at these quizzes, newest first. */
export async function attemptsOfStudent(
  db: Db,
  studentId: string,
  quizIds: string[],
): Promise<Map<string, AttemptRow[]>> {
  const rows = await db
    .select()
    .from(quizAttempts)
    .where(and(eq(quizAttempts.studentId, studentId), anyUuid(quizAttempts.quizId, quizIds)))
    .orderBy(desc(quizAttempts.number));
  return groupBy(rows, (r) => r.quizId);
}

export function attemptsPageByQuizzes(db: Db, quizIds: string[], page: PageRequest) {
  return pagesByParent(db, quizAttempts, quizAttempts.quizId, (a: AttemptRow) => a.quizId, quizIds, attemptSort, page);
}

export async function countAttemptsByQuizzes(db: Db, quizIds: string[]): Promise<Map<string, number>> {
  const rows = await db
    .select({ quizId: quizAttempts.quizId, n: sql<number>`count(*)::int` })
    .from(quizAttempts)
    .where(anyUuid(quizAttempts.quizId, quizIds))
    .groupBy(quizAttempts.quizId);
  return new Map(rows.map((r) => [r.quizId, r.n]));
}

/** Best graded percent per quiz for many (course, student) pairs, keyed "courseId|studentId". */
export async function bestPercentsOfPairs(
  db: Db,
  pairs: Array<{ courseId: string; studentId: string }>,
): Promise<Map<string, Map<string, number>>> {
  const result = new Map<string, Map<string, number>>();
  if (!pairs.length) return result;
  const rows = rowsOf<{ course_id: string; student_id: string; quiz_id: string; best: number }>(
    await db.execute(sql`
      select a.course_id, a.student_id, a.quiz_id, max(a.score_percent)::float8 as best
      from ${quizAttempts} a
      join unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.studentId))}::uuid[])
        as p(course_id, student_id) on a.course_id = p.course_id and a.student_id = p.student_id
      where a.status <> 'IN_PROGRESS'
      group by a.course_id, a.student_id, a.quiz_id`),
  );
  for (const r of rows) {
    const key = `${r.course_id}|${r.student_id}`;
    const m = result.get(key) ?? new Map<string, number>();
    m.set(r.quiz_id, Number(r.best));
    result.set(key, m);
  }
  return result;
}

export interface CompletionData {
  requiredQuizzes: number;
  passedRequiredQuizzes: number;
  completed: boolean;
  completedAt: Date | null;
}

/**
 * Completion of many (course, student) pairs in one statement: counted lessons and the
 * student's marks on them, required quizzes and those passed, and when the course was first
 * completed.
 */
export async function completionOfPairs(
  db: Db,
  pairs: Array<{ courseId: string; studentId: string }>,
): Promise<Map<string, CompletionData>> {
  const result = new Map<string, CompletionData>();
  if (!pairs.length) return result;
  const rows = rowsOf<{
    course_id: string;
    student_id: string;
    total: number;
    done: number;
    required: number;
    passed: number;
    completed_at: Date | string | null;
  }>(
    await db.execute(sql`
      select p.course_id, p.student_id, ${completionColumns(sql`p.course_id`, sql`p.student_id`)},
        (select cc.completed_at from ${courseCompletions} cc
          where cc.course_id = p.course_id and cc.student_id = p.student_id) as completed_at
      from unnest(${sql.param(pairs.map((p) => p.courseId))}::uuid[], ${sql.param(pairs.map((p) => p.studentId))}::uuid[])
        as p(course_id, student_id)`),
  );
  for (const r of rows) {
    result.set(`${r.course_id}|${r.student_id}`, {
      requiredQuizzes: r.required,
      passedRequiredQuizzes: r.passed,
      completed: isComplete(r),
      completedAt: r.completed_at === null ? null : new Date(r.completed_at),
    });
  }
  return result;
}

/** The contract's rule: every counted lesson marked and every required quiz passed (and something to do). */
const isComplete = (r: { total: number; done: number; required: number; passed: number }) =>
  r.total + r.required > 0 && r.done >= r.total && r.passed >= r.required;

export function completionColumns(courseId: ReturnType<typeof sql>, studentId: ReturnType<typeof sql>) {
  return sql`
    (select count(*)::int from ${lessons} l where l.course_id = ${courseId} and l.status <> 'CANCELLED') as total,
    (select count(*)::int from ${lessonCompletions} c join ${lessons} l on l.id = c.lesson_id
      where c.course_id = ${courseId} and c.student_id = ${studentId} and l.status <> 'CANCELLED') as done,
    (select count(*)::int from ${quizzes} q where q.course_id = ${courseId} and q.required) as required,
    (select count(*)::int from ${quizzes} q where q.course_id = ${courseId} and q.required and exists (
      select 1 from ${quizAttempts} a where a.quiz_id = q.id and a.student_id = ${studentId} and a.passed)) as passed`;
}

/**
 * Called inside a transaction holding the enrollment's row lock, after a mark or a grading:
 * records the first completion and its `course.completed` outbox event, both with the change
 * that caused them. Returns true when this call completed the course.
 */
export async function recordCompletionIfDone(tx: Db, enrollment: EnrollmentRow): Promise<boolean> {
  const [state] = rowsOf<{ total: number; done: number; required: number; passed: number }>(
    await tx.execute(
      sql`select ${completionColumns(sql`${enrollment.courseId}::uuid`, sql`${enrollment.studentId}::uuid`)}`,
    ),
  );
  if (!state || !isComplete(state)) return false;
  const inserted = await tx
    .insert(courseCompletions)
    .values({ enrollmentId: enrollment.id, courseId: enrollment.courseId, studentId: enrollment.studentId })
    .onConflictDoNothing()
    .returning({ completedAt: courseCompletions.completedAt });
  if (!inserted.length) return false;
  await appendToOutbox(tx, {
    type: 'course.completed',
    enrollmentId: enrollment.id,
    courseId: enrollment.courseId,
    studentId: enrollment.studentId,
    occurredAt: inserted[0]!.completedAt.toISOString(),
  });
  return true;
}

export interface QuizStatsData {
  averageQuizPercent: number | null;
  certificatesIssued: number;
}

/** Per course: the mean of best percents per (student, quiz) over graded attempts; certificates not revoked. */
export async function quizStatsOfCourses(db: Db, courseIds: string[]): Promise<Map<string, QuizStatsData>> {
  const rows = rowsOf<{ course_id: string; avg: number | null; certs: number }>(
    await db.execute(sql`
      select i.course_id,
        (select avg(b.best)::float8 from (
           select max(a.score_percent) as best from ${quizAttempts} a
           where a.course_id = i.course_id and a.status <> 'IN_PROGRESS' group by a.student_id, a.quiz_id) b) as avg,
        (select count(*)::int from ${certificates} c where c.course_id = i.course_id and c.revoked_at is null) as certs
      from (select distinct unnest(${sql.param(courseIds)}::uuid[]) as course_id) i`),
  );
  return new Map(
    rows.map((r) => [
      r.course_id,
      { averageQuizPercent: r.avg === null ? null : Number(r.avg), certificatesIssued: r.certs },
    ]),
  );
}

// --- attempts ------------------------------------------------------------------------------

/**
 * The student's active enrollment in the course, row-locked: every attempt and completion write
 * of a student serializes on it. The course row is key-share locked first: a change to what
 * completing the course takes (made under the course's update lock, see completion.repository.ts)
 * then either commits before this write checks completion, or waits for it to commit.
 */
export async function lockActiveEnrollment(
  tx: Db,
  courseId: string,
  studentId: string,
): Promise<EnrollmentRow | undefined> {
  await tx.select({ id: courses.id }).from(courses).where(eq(courses.id, courseId)).for('key share');
  const [row] = await tx
    .select()
    .from(enrollments)
    .where(
      and(eq(enrollments.courseId, courseId), eq(enrollments.studentId, studentId), eq(enrollments.status, 'ACTIVE')),
    )
    .for('update');
  return row;
}

/** An attempt with `overdue`: whether the database clock is past its deadline plus the grace. */
export type AttemptWithClock = AttemptRow & { overdue: boolean };

const overdueSql = sql<boolean>`(${quizAttempts.deadline} is not null and now() > ${quizAttempts.deadline} + make_interval(secs => ${GRACE_SECONDS}))`;

export async function lockAttempt(tx: Db, attemptId: string): Promise<AttemptWithClock | undefined> {
  const [row] = await tx
    .select({ attempt: quizAttempts, overdue: overdueSql })
    .from(quizAttempts)
    .where(eq(quizAttempts.id, attemptId))
    .for('update');
  return row && { ...row.attempt, overdue: row.overdue };
}

/** The student's attempts at a quiz (newest first), with the in-progress one's clock. */
export async function attemptsForStart(tx: Db, quizId: string, studentId: string): Promise<AttemptWithClock[]> {
  const rows = await tx
    .select({ attempt: quizAttempts, overdue: overdueSql })
    .from(quizAttempts)
    .where(and(eq(quizAttempts.quizId, quizId), eq(quizAttempts.studentId, studentId)))
    .orderBy(desc(quizAttempts.number));
  return rows.map((r) => ({ ...r.attempt, overdue: r.overdue }));
}

/** A new attempt; its deadline from the database clock. */
export async function insertAttempt(tx: Db, quiz: QuizRow, studentId: string, number: number): Promise<AttemptRow> {
  const [row] = await tx
    .insert(quizAttempts)
    .values({
      quizId: quiz.id,
      courseId: quiz.courseId,
      studentId,
      number,
      deadline: quiz.timeLimitSeconds ? sql`now() + make_interval(secs => ${quiz.timeLimitSeconds})` : null,
    })
    .returning();
  return row!;
}

/**
 * Merges answers into an attempt still open by the database clock (deadline + grace). Returns
 * the row, or undefined when it is not open any more.
 */
export async function mergeAnswers(
  tx: Db,
  attemptId: string,
  answers: Record<string, StoredAnswer>,
): Promise<AttemptRow | undefined> {
  const [row] = await tx
    .update(quizAttempts)
    .set({ answers: sql`${quizAttempts.answers} || ${JSON.stringify(answers)}::jsonb` })
    .where(and(eq(quizAttempts.id, attemptId), eq(quizAttempts.status, 'IN_PROGRESS'), sql`not ${overdueSql}`))
    .returning();
  return row;
}

/** Stores a grading, once: only an attempt still IN_PROGRESS is graded. */
export async function storeGrade(
  tx: Db,
  attemptId: string,
  status: Exclude<AttemptStatus, 'IN_PROGRESS'>,
  g: Grade,
  answers?: Record<string, StoredAnswer>,
): Promise<AttemptRow | undefined> {
  const [row] = await tx
    .update(quizAttempts)
    .set({
      status,
      submittedAt: status === 'SUBMITTED' ? sql`now()` : null,
      scorePoints: g.scorePoints,
      scorePercent: g.scorePercent,
      passed: g.passed,
      results: g.results,
      ...(answers ? { answers } : {}),
    })
    .where(and(eq(quizAttempts.id, attemptId), eq(quizAttempts.status, 'IN_PROGRESS')))
    .returning();
  return row;
}

/** Milliseconds (by the database clock) until an open attempt is overdue; null when it is not open or has no deadline. */
export async function msUntilOverdue(db: Db, attemptId: string): Promise<number | null> {
  const [row] = rowsOf<{ ms: number | null }>(
    await db.execute(sql`select ceil(extract(epoch from (${quizAttempts.deadline} + make_interval(secs => ${GRACE_SECONDS}) - now())) * 1000)::float8 as ms
      from ${quizAttempts} where ${quizAttempts.id} = ${attemptId}::uuid and ${quizAttempts.status} = 'IN_PROGRESS'`),
  );
  return row?.ms ?? null;
}

/** Attempts still in progress past their deadline and grace (by the database clock), oldest first. */
export async function overdueAttemptIds(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .select({ id: quizAttempts.id })
    .from(quizAttempts)
    .where(and(eq(quizAttempts.status, 'IN_PROGRESS'), overdueSql))
    .orderBy(asc(quizAttempts.deadline))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** The user's role and the course's instructor, as they are now (live re-authorization). */
export async function roleAndInstructor(
  db: Db,
  userId: string,
  courseId: string,
): Promise<{ role: Role; instructorId: string } | undefined> {
  const [row] = rowsOf<{ role: Role; instructor_id: string }>(
    await db.execute(sql`select u.role, c.instructor_id from ${users} u, ${courses} c
      where u.id = ${userId}::uuid and c.id = ${courseId}::uuid`),
  );
  return row && { role: row.role, instructorId: row.instructor_id };
}

function groupBy<T>(rows: T[], keyOf: (row: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const list = m.get(keyOf(r));
    if (list) list.push(r);
    else m.set(keyOf(r), [r]);
  }
  return m;
}
