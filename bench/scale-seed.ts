/**
 * The data `npm run bench:scale` starts from, written straight to the primary: instructors,
 * live courses whose students follow their lessons (one subscriber per student), free catalog
 * courses other students enroll in, and a signed access token (with its session) for everyone.
 */
import type postgres from 'postgres';
import { TokenService } from '../src/auth/tokens.js';
import { toGlobalId } from '../src/graphql/global-id.js';
import { TOKEN_TTL_SECONDS } from './scale-topology.js';

export interface SeededCourse {
  index: number;
  id: string;
  gid: string;
  slug: string;
  instructorId: string;
}

export interface Seeded {
  liveCourses: SeededCourse[];
  catalogCourses: SeededCourse[];
  /** One per live subscriber: a student actively enrolled in one live course. */
  subscribers: Array<{ studentId: string; courseId: string }>;
  /** Live course id → its students (fixed for the run: nobody enrolls in or leaves a live course). */
  studentsOf: Map<string, string[]>;
  /** Live course id → lessons that never change status (for completion marks). */
  seededLessons: Map<string, string[]>;
  enrollers: string[];
  /** User id → access token. */
  tokens: Map<string, string>;
  emails: Map<string, string>;
}

export async function seed(
  sql: postgres.Sql,
  secret: string,
  counts: { instructors: number; liveCourses: number; subscribers: number; catalogCourses: number; enrollers: number },
): Promise<Seeded> {
  const users = async (prefix: string, n: number, role: string) =>
    sql<{ id: string; email: string }[]>`
      insert into users (email, display_name, password_hash, role)
      select ${prefix} || i || '@scale.test', ${prefix} || ' ' || i, 'x', ${role}
      from generate_series(1, ${n}::int) i order by i
      returning id, email`;
  const instructors = await users('instructor', counts.instructors, 'INSTRUCTOR');
  const students = await users('student', counts.subscribers, 'STUDENT');
  const enrollers = await users('enroller', counts.enrollers, 'STUDENT');

  const courses = async (kind: string, n: number) => {
    const rows = Array.from({ length: n }, (_, i) => ({
      instructor_id: instructors[i % instructors.length]!.id,
      slug: `${kind}-${i}`,
      title: `${kind}-${i}`,
      status: 'PUBLISHED',
      published_at: new Date(),
    }));
    const out = await sql<{ id: string; slug: string; instructor_id: string }[]>`
      insert into courses ${sql(rows)} returning id, slug, instructor_id`;
    return out
      .map((c) => ({
        index: Number(c.slug.split('-').pop()),
        id: c.id,
        gid: toGlobalId('Course', c.id),
        slug: c.slug,
        instructorId: c.instructor_id,
      }))
      .sort((a, b) => a.index - b.index);
  };
  const liveCourses = await courses('live', counts.liveCourses);
  const catalogCourses = await courses('catalog', counts.catalogCourses);

  const subscribers = students.map((s, i) => ({ studentId: s.id, courseId: liveCourses[i % liveCourses.length]!.id }));
  await sql`insert into enrollments ${sql(subscribers.map((s) => ({ student_id: s.studentId, course_id: s.courseId })))}`;
  const studentsOf = new Map<string, string[]>();
  for (const s of subscribers) studentsOf.set(s.courseId, [...(studentsOf.get(s.courseId) ?? []), s.studentId]);

  const lessonRows = liveCourses.flatMap((c) =>
    Array.from({ length: 4 }, (_, p) => ({ course_id: c.id, title: `${c.slug} seeded ${p}`, position: p })),
  );
  const lessons = await sql<
    { id: string; course_id: string }[]
  >`insert into lessons ${sql(lessonRows)} returning id, course_id`;
  const seededLessons = new Map<string, string[]>();
  for (const l of lessons) seededLessons.set(l.course_id, [...(seededLessons.get(l.course_id) ?? []), l.id]);

  const everyone = [
    ...instructors.map((u) => ({ ...u, role: 'INSTRUCTOR' as const })),
    ...students.map((u) => ({ ...u, role: 'STUDENT' as const })),
    ...enrollers.map((u) => ({ ...u, role: 'STUDENT' as const })),
  ];
  const expires = new Date(Date.now() + 86_400_000);
  const sessions = await sql<{ id: string; user_id: string }[]>`
    insert into auth_sessions ${sql(everyone.map((u) => ({ user_id: u.id, expires_at: expires })))} returning id, user_id`;
  const sessionOf = new Map(sessions.map((s) => [s.user_id, s.id]));
  const tokenService = new TokenService({
    secret,
    issuer: 'eduflow',
    audience: 'eduflow-api',
    accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
  });
  const tokens = new Map<string, string>();
  for (const u of everyone)
    tokens.set(
      u.id,
      (await tokenService.signAccessToken({ userId: u.id, role: u.role, sessionId: sessionOf.get(u.id)! })).token,
    );

  return {
    liveCourses,
    catalogCourses,
    subscribers,
    studentsOf,
    seededLessons,
    enrollers: enrollers.map((e) => e.id),
    tokens,
    emails: new Map(everyone.map((u) => [u.id, u.email])),
  };
}
