import { createHash } from 'node:crypto';
import { count } from 'drizzle-orm';
import { hashPassword } from '../auth/passwords.js';
import type { Db } from '../db/client.js';
import { buildDemoQuizzes } from './demo-quizzes.js';
import {
  courses,
  enrollments,
  entitlements,
  lessons,
  quizQuestions,
  quizzes,
  users,
  type CourseStatus,
  type LessonStatus,
  type NewCourseRow,
  type NewEnrollmentRow,
  type NewEntitlementRow,
  type NewLessonRow,
  type NewUserRow,
} from '../db/schema.js';

/**
 * A realistic demo catalog: 1 admin, 3 instructors, 50 students, 20 courses in every status,
 * 200 lessons in every status and ~200 enrollments. Students enrolled in a paid course hold an
 * entitlement to it (granted by its instructor); the others buy or are granted access (the
 * README's paid-course flow uses "Algorithms Interview Prep", which student01 has not). Row ids are derived from names, and
 * every insert is ON CONFLICT DO NOTHING, so seeding twice changes nothing.
 */
export const DEMO_PASSWORD = 'eduflow-demo-password';
export const DEMO_ACCOUNTS = {
  admin: 'admin@eduflow.local',
  instructor: 'ada@eduflow.local',
  student: 'student01@eduflow.local',
} as const;

/** A stable UUID (v5 layout) from a name, so seed rows have the same ids everywhere. */
function demoId(name: string): string {
  const h = createHash('sha1').update(`eduflow-demo:${name}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const INSTRUCTORS = [
  ['ada@eduflow.local', 'Ada Lovelace'],
  ['grace@eduflow.local', 'Grace Hopper'],
  ['alan@eduflow.local', 'Alan Turing'],
] as const;

const FIRST = ['Maya', 'Liam', 'Noah', 'Emma', 'Olivia', 'Aisha', 'Kenji', 'Sofia', 'Mateo', 'Zara'];
const LAST = ['Okafor', 'Nguyen', 'Schmidt', 'Garcia', 'Kowalski'];

const COURSES: Array<[title: string, description: string, priceCents: number]> = [
  [
    'Introduction to Python',
    'Variables, control flow, functions and the standard library, from zero to scripts that automate your week.',
    0,
  ],
  [
    'Data Structures in Practice',
    'Arrays, hash maps, trees and graphs, with the trade-offs that matter in real code.',
    4900,
  ],
  ['SQL for Analysts', 'Joins, window functions and query plans on PostgreSQL, with real datasets.', 3900],
  ['Web Development with TypeScript', 'Build and deploy a typed full-stack web application.', 5900],
  ['GraphQL API Design', 'Schemas, pagination, authorization and performance for production GraphQL APIs.', 6900],
  [
    'Machine Learning Foundations',
    'Regression, classification and evaluation, with a practical focus on pitfalls.',
    7900,
  ],
  ['Statistics for Engineers', 'Distributions, hypothesis tests and experiments you can trust.', 2900],
  ['Linux Command Line Essentials', 'Shells, pipes, permissions and processes for everyday productivity.', 0],
  ['Distributed Systems', 'Consensus, replication, partitioning and failure, explained with case studies.', 8900],
  ['Secure Coding', 'The OWASP Top 10 in practice: injection, authentication, access control and more.', 4900],
  ['Product Management Basics', 'Discovery, prioritisation and roadmaps for engineers moving into product.', 3900],
  ['Technical Writing', 'Write documentation, design docs and READMEs that people actually read.', 1900],
  ['Algorithms Interview Prep', 'Patterns for solving algorithmic problems under time pressure.', 2900],
  ['Cloud Architecture', 'Designing reliable, cost-aware systems on public clouds.', 9900],
  [
    'Rust for Systems Programmers',
    'Ownership, lifetimes and fearless concurrency. (Draft: recording in progress.)',
    6900,
  ],
  [
    'Accessibility for Front-End Developers',
    'Semantic HTML, ARIA and testing with assistive technology. (Draft.)',
    3900,
  ],
  ['Observability and SRE', 'Metrics, logs, traces and SLOs for services you are on call for. (Draft.)', 5900],
  ['Legacy jQuery Migration', 'Moving a jQuery code base to modern frameworks, step by step. (Archived.)', 1900],
  ['Flash Game Development', 'A look back at ActionScript game loops. (Archived.)', 0],
  ['Intro to Blockchain', 'Hashes, ledgers and consensus, as taught in 2018. (Archived.)', 2900],
];

function courseStatus(i: number): CourseStatus {
  if (i >= 17) return 'ARCHIVED';
  if (i >= 14) return 'DRAFT';
  return 'PUBLISHED';
}

function slugify(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function buildDemoData(passwordHash: string, now = new Date()) {
  const day = 24 * 3600 * 1000;
  const at = (days: number) => new Date(now.getTime() + days * day);

  const userRows: NewUserRow[] = [
    {
      id: demoId('user:admin'),
      email: DEMO_ACCOUNTS.admin,
      displayName: 'EduFlow Admin',
      role: 'ADMIN',
      passwordHash,
      createdAt: at(-120),
    },
    ...INSTRUCTORS.map(([email, displayName], i) => ({
      id: demoId(`user:${email}`),
      email,
      displayName,
      role: 'INSTRUCTOR' as const,
      passwordHash,
      createdAt: at(-110 + i),
    })),
  ];
  const studentIds: string[] = [];
  for (let s = 1; s <= 50; s++) {
    const email = `student${String(s).padStart(2, '0')}@eduflow.local`;
    const id = demoId(`user:${email}`);
    studentIds.push(id);
    const displayName = `${FIRST[(s - 1) % FIRST.length]} ${LAST[Math.floor((s - 1) / FIRST.length) % LAST.length]}`;
    userRows.push({ id, email, displayName, role: 'STUDENT', passwordHash, createdAt: at(-100 + s) });
  }

  const courseRows: NewCourseRow[] = COURSES.map(([title, description, priceCents], i) => {
    const status = courseStatus(i);
    return {
      id: demoId(`course:${i}`),
      instructorId: demoId(`user:${INSTRUCTORS[i % 3]![0]}`),
      slug: slugify(title),
      title,
      description,
      priceCents,
      status,
      publishedAt: status === 'DRAFT' ? null : at(-60 + i),
      createdAt: at(-90 + i),
    };
  });

  const lessonRows: NewLessonRow[] = [];
  courseRows.forEach((course, c) => {
    for (let p = 0; p < 10; p++) {
      const started = course.status !== 'DRAFT';
      let status: LessonStatus = 'SCHEDULED';
      if (started && p < 4) status = 'COMPLETED';
      else if (started && p === 4) status = c % 2 === 0 ? 'IN_PROGRESS' : 'COMPLETED';
      else if (started && p === 5 && c % 3 === 0) status = 'CANCELLED';
      if (course.status === 'ARCHIVED' && status === 'SCHEDULED') status = 'CANCELLED';
      const scheduledAt = at((p - 4) * 7 + (c % 5));
      lessonRows.push({
        id: demoId(`lesson:${c}:${p}`),
        courseId: course.id!,
        title: `${course.title}: part ${p + 1}`,
        content: `Notes, exercises and links for part ${p + 1} of ${course.title}.`,
        position: p,
        status,
        scheduledAt,
        durationMinutes: 45 + (p % 3) * 15,
        startedAt: status === 'IN_PROGRESS' || status === 'COMPLETED' ? scheduledAt : null,
        completedAt: status === 'COMPLETED' ? new Date(scheduledAt.getTime() + 3600 * 1000) : null,
        cancelledAt: status === 'CANCELLED' ? at(-1) : null,
        cancellationReason: status === 'CANCELLED' ? 'Instructor unavailable' : null,
        createdAt: at(-90 + c),
      });
    }
  });

  const enrollable = courseRows.map((c, i) => ({ c, i })).filter(({ c }) => c.status !== 'DRAFT');
  const enrollmentRows: NewEnrollmentRow[] = [];
  studentIds.forEach((studentId, s) => {
    const picks = new Set<number>();
    for (let k = 0; k < 4; k++) picks.add((s * 7 + k * 3) % enrollable.length);
    for (const pick of picks) {
      const { c, i } = enrollable[pick]!;
      const cancelled = (s + pick) % 9 === 0;
      enrollmentRows.push({
        id: demoId(`enrollment:${s}:${i}`),
        studentId,
        courseId: c.id!,
        status: cancelled ? 'CANCELLED' : 'ACTIVE',
        enrolledAt: at(-50 + ((s + pick) % 40)),
        cancelledAt: cancelled ? at(-5) : null,
      });
    }
  });

  const entitlementRows: NewEntitlementRow[] = enrollmentRows
    .map((e) => ({ e, course: courseRows.find((c) => c.id === e.courseId)! }))
    .filter(({ course }) => course.priceCents! > 0)
    .map(({ e, course }) => ({
      id: demoId(`entitlement:${e.id}`),
      studentId: e.studentId,
      courseId: e.courseId,
      source: 'GRANT' as const,
      grantedBy: course.instructorId,
      grantedAt: e.enrolledAt,
    }));

  const assessment = buildDemoQuizzes(courseRows, lessonRows, demoId);
  return {
    users: userRows,
    courses: courseRows,
    lessons: lessonRows,
    enrollments: enrollmentRows,
    entitlements: entitlementRows,
    quizzes: assessment.quizzes,
    questions: assessment.questions,
  };
}

export interface SeedResult {
  users: number;
  courses: number;
  lessons: number;
  enrollments: number;
  entitlements: number;
  quizzes: number;
}

/** Inserts whatever part of the demo catalog is missing; returns how many rows were added. */
export async function seedDemoData(db: Db): Promise<SeedResult> {
  const data = buildDemoData(await hashPassword(DEMO_PASSWORD));
  return db.transaction(async (tx) => ({
    users: (await tx.insert(users).values(data.users).onConflictDoNothing().returning({ id: users.id })).length,
    courses: (await tx.insert(courses).values(data.courses).onConflictDoNothing().returning({ id: courses.id })).length,
    lessons: (await tx.insert(lessons).values(data.lessons).onConflictDoNothing().returning({ id: lessons.id })).length,
    enrollments: (
      await tx.insert(enrollments).values(data.enrollments).onConflictDoNothing().returning({ id: enrollments.id })
    ).length,
    entitlements: (
      await tx.insert(entitlements).values(data.entitlements).onConflictDoNothing().returning({ id: entitlements.id })
    ).length,
    quizzes: await seedQuizzes(tx, data),
  }));
}

async function seedQuizzes(tx: Db, data: ReturnType<typeof buildDemoData>): Promise<number> {
  const added = await tx.insert(quizzes).values(data.quizzes).onConflictDoNothing().returning({ id: quizzes.id });
  await tx.insert(quizQuestions).values(data.questions).onConflictDoNothing();
  return added.length;
}

export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(users);
  return (row?.n ?? 0) === 0;
}
