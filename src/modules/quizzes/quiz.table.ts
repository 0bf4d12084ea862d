import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  doublePrecision,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, primaryId, ts, updatedAt } from '../../db/columns.js';
import { courses } from '../courses/course.table.js';
import { enrollments } from '../enrollments/enrollment.table.js';
import { lessons } from '../lessons/lesson.table.js';
import { users } from '../users/user.table.js';

export const QUESTION_KINDS = ['SINGLE_CHOICE', 'MULTIPLE_CHOICE', 'SHORT_TEXT', 'NUMERIC'] as const;
export type QuestionKind = (typeof QUESTION_KINDS)[number];
export const ATTEMPT_STATUSES = ['IN_PROGRESS', 'SUBMITTED', 'EXPIRED'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** A choice as stored: its id is random (it tells nothing about its place or correctness). */
export interface StoredChoice {
  id: string;
  text: string;
  correct: boolean;
}

/** A saved answer, keyed by question id in `quiz_attempts.answers`. */
export interface StoredAnswer {
  choiceIds?: string[];
  text?: string;
  number?: number;
}

/** One question's grading, in `quiz_attempts.results` (question order). */
export interface StoredResult {
  questionId: string;
  given: string | null;
  correct: boolean;
  points: number;
}

/**
 * A quiz hangs off a lesson; `course_id` is the lesson's course, copied so gradebooks,
 * completion and statistics aggregate per course without a join through lessons.
 */
export const quizzes = pgTable(
  'quizzes',
  {
    id: primaryId(),
    courseId: uuid('course_id').notNull(),
    lessonId: uuid('lesson_id').notNull(),
    title: text('title').notNull(),
    passPercent: integer('pass_percent').notNull().default(70),
    maxAttempts: integer('max_attempts'),
    timeLimitSeconds: integer('time_limit_seconds'),
    required: boolean('required').notNull().default(false),
    revealAnswers: boolean('reveal_answers').notNull().default(false),
    questionCount: integer('question_count').notNull().default(0),
    totalPoints: integer('total_points').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    foreignKey({ name: 'quizzes_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] }).onDelete(
      'cascade',
    ),
    foreignKey({ name: 'quizzes_lesson_id_fkey', columns: [t.lessonId], foreignColumns: [lessons.id] }).onDelete(
      'cascade',
    ),
    index('quizzes_lesson_id_created_at_idx').on(t.lessonId, t.createdAt, t.id),
    index('quizzes_course_id_idx').on(t.courseId),
    check('quizzes_pass_percent_check', sql`${t.passPercent} between 0 and 100`),
    check('quizzes_max_attempts_check', sql`${t.maxAttempts} is null or ${t.maxAttempts} between 1 and 100`),
    check('quizzes_time_limit_check', sql`${t.timeLimitSeconds} is null or ${t.timeLimitSeconds} between 30 and 86400`),
  ],
);

export const quizQuestions = pgTable(
  'quiz_questions',
  {
    id: primaryId(),
    quizId: uuid('quiz_id').notNull(),
    position: integer('position').notNull(),
    kind: text('kind', { enum: QUESTION_KINDS }).notNull(),
    prompt: text('prompt').notNull(),
    points: integer('points').notNull().default(1),
    choices: jsonb('choices').$type<StoredChoice[]>().notNull().default([]),
    acceptedAnswers: jsonb('accepted_answers').$type<string[]>(),
    tolerance: doublePrecision('tolerance'),
  },
  (t) => [
    foreignKey({ name: 'quiz_questions_quiz_id_fkey', columns: [t.quizId], foreignColumns: [quizzes.id] }).onDelete(
      'cascade',
    ),
    uniqueIndex('quiz_questions_quiz_id_position_key').on(t.quizId, t.position),
    check('quiz_questions_points_check', sql`${t.points} between 1 and 100`),
  ],
);

/**
 * A student's attempt. `deadline` is computed by Postgres (`now()` at start + the limit), and
 * every check against it runs in SQL, so no server's clock decides. Saved answers and the
 * grading live on the row: one write per save, one per grading.
 */
export const quizAttempts = pgTable(
  'quiz_attempts',
  {
    id: primaryId(),
    quizId: uuid('quiz_id').notNull(),
    courseId: uuid('course_id').notNull(),
    studentId: uuid('student_id').notNull(),
    number: integer('number').notNull(),
    status: text('status', { enum: ATTEMPT_STATUSES }).notNull().default('IN_PROGRESS'),
    startedAt: ts('started_at').notNull().defaultNow(),
    deadline: ts('deadline'),
    submittedAt: ts('submitted_at'),
    answers: jsonb('answers').$type<Record<string, StoredAnswer>>().notNull().default({}),
    scorePoints: integer('score_points'),
    scorePercent: doublePrecision('score_percent'),
    passed: boolean('passed'),
    results: jsonb('results').$type<StoredResult[]>(),
  },
  (t) => [
    foreignKey({ name: 'quiz_attempts_quiz_id_fkey', columns: [t.quizId], foreignColumns: [quizzes.id] }).onDelete(
      'cascade',
    ),
    foreignKey({ name: 'quiz_attempts_course_id_fkey', columns: [t.courseId], foreignColumns: [courses.id] }).onDelete(
      'cascade',
    ),
    foreignKey({
      name: 'quiz_attempts_student_id_fkey',
      columns: [t.studentId],
      foreignColumns: [users.id],
    }).onDelete('cascade'),
    // Two parallel starts cannot both make attempt n, nor two attempts in progress.
    uniqueIndex('quiz_attempts_quiz_student_number_key').on(t.quizId, t.studentId, t.number),
    uniqueIndex('quiz_attempts_in_progress_key')
      .on(t.quizId, t.studentId)
      .where(sql`${t.status} = 'IN_PROGRESS'`),
    index('quiz_attempts_quiz_id_started_at_idx').on(t.quizId, t.startedAt, t.id),
    index('quiz_attempts_course_student_idx').on(t.courseId, t.studentId),
    index('quiz_attempts_student_id_idx').on(t.studentId),
    // The expiry sweep: attempts in progress with a deadline, soonest first.
    index('quiz_attempts_open_deadline_idx')
      .on(t.deadline)
      .where(sql`${t.status} = 'IN_PROGRESS' and ${t.deadline} is not null`),
  ],
);

/**
 * When a student first completed a course (the certificate's basis): one row per student and
 * course, like their marks, which outlive an unenrollment.
 */
export const courseCompletions = pgTable(
  'course_completions',
  {
    enrollmentId: uuid('enrollment_id').notNull(),
    courseId: uuid('course_id').notNull(),
    studentId: uuid('student_id').notNull(),
    completedAt: ts('completed_at').notNull().defaultNow(),
  },
  (t) => [
    foreignKey({
      name: 'course_completions_enrollment_id_fkey',
      columns: [t.enrollmentId],
      foreignColumns: [enrollments.id],
    }).onDelete('cascade'),
    primaryKey({ name: 'course_completions_pkey', columns: [t.courseId, t.studentId] }),
    index('course_completions_enrollment_id_idx').on(t.enrollmentId),
  ],
);

export type QuizRow = typeof quizzes.$inferSelect;
export type QuestionRow = typeof quizQuestions.$inferSelect;
export type AttemptRow = typeof quizAttempts.$inferSelect;
