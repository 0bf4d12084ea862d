/**
 * The mixed load of `npm run bench:scale`: who writes what, what each acknowledged write
 * promises (recorded here, checked against Postgres at the end), and the catalog reads.
 */
import { toGlobalId, uuidOf } from '../src/graphql/global-id.js';
import type { Apis } from './scale-clients.js';
import type { Seeded } from './scale-seed.js';
import { sleep } from './lib.js';

export type LessonOp = 'create' | 'schedule' | 'start' | 'complete' | 'cancel';

/** The notification kind each lifecycle step announces to the course's students. */
export const NOTIFIES: Partial<Record<LessonOp, string>> = {
  schedule: 'LESSON_SCHEDULED',
  start: 'LESSON_STARTED',
  complete: 'LESSON_COMPLETED',
  cancel: 'LESSON_CANCELLED',
};

export interface Acknowledged {
  lessons: Array<{ op: LessonOp; lessonId: string; courseId: string }>;
  enrollments: Array<{ studentId: string; courseId: string }>;
  marks: Array<{ studentId: string; lessonId: string }>;
  /** The highest acknowledged title version per course. */
  titles: Map<string, number>;
}

export interface StaleCheck {
  probes: number;
  /** A cached read, after the write's acknowledgement, that returned an older title. */
  stale: Array<{ courseId: string; acknowledged: number; read: number; phase: string }>;
  readErrors: number;
}

const CREATE = `mutation($c: ID!, $t: String!, $k: String) { createLesson(input: { courseId: $c, title: $t, clientMutationId: $k }) { id } }`;
const SCHEDULE = `mutation($id: ID!, $at: DateTime!) { rescheduleLesson(id: $id, scheduledAt: $at) { id } }`;
const START = `mutation($id: ID!) { startLesson(id: $id) { id } }`;
const COMPLETE = `mutation($id: ID!) { completeLesson(id: $id) { id } }`;
const CANCEL = `mutation($id: ID!) { cancelLesson(id: $id, reason: "scale bench") { id } }`;
const ENROLL = `mutation($c: ID!) { enroll(courseId: $c) { id } }`;
const MARK = `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`;
const RETITLE = `mutation($id: ID!, $t: String!) { updateCourse(input: { id: $id, title: $t }) { id title } }`;
const COURSE_PAGE = `query($id: ID!) { course(id: $id) { id title enrollmentCount lessonCount
  lessons(first: 10) { edges { node { id title status } } } } }`;
const COURSE_PAGE_SIGNED_IN = `query($id: ID!) { course(id: $id) { id title enrollmentCount
  lessons(first: 10) { edges { node { id title status } } } viewerEnrollment { id status } } }`;
const SEARCH = `query($s: String) { courses(first: 5, filter: { search: $s }) { totalCount edges { node { id title } } } }`;
const TITLE = `query($id: ID!) { course(id: $id) { id title } }`;

/** Runs `body` in `concurrency` loops until `running()` is false, together at most `rate` per second. */
export async function paced(
  running: () => boolean,
  rate: number,
  concurrency: number,
  body: (loop: number, i: number) => Promise<void>,
  failures: string[],
): Promise<void> {
  const interval = (1000 * concurrency) / rate;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      await sleep(Math.random() * interval);
      for (let i = 0; running(); i++) {
        const t0 = performance.now();
        await body(loop, i).catch((err: unknown) => void failures.push(String(err).slice(0, 300)));
        const wait = interval - (performance.now() - t0);
        if (wait > 0) await sleep(wait);
      }
    }),
  );
}

const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;

/**
 * Instructors drive lessons of the live courses through create → schedule → start → complete
 * (every fourth one cancelled instead), one step at a time per course. A step that failed is
 * tried again on the course's next turn; CONFLICT then means the unanswered attempt committed.
 */
export function lifecycle(apis: Apis, seeded: Seeded, ack: Acknowledged, runId: string) {
  const state = seeded.liveCourses.map((c) => ({ course: c, n: 0, step: 0, lessonGid: '', lessonId: '' }));
  return async (loop: number, i: number, loops: number) => {
    const mine = state.filter((_, k) => k % loops === loop);
    const s = mine[i % mine.length]!;
    const token = seeded.tokens.get(s.course.instructorId)!;
    const steps: LessonOp[] = ['create', 'schedule', 'start', s.n % 4 === 3 ? 'cancel' : 'complete'];
    const op = steps[s.step]!;
    let r;
    if (op === 'create') {
      const title = `L${s.course.index}-${s.n}-${runId}`;
      r = await apis.gql(
        'write',
        'createLesson',
        CREATE,
        { c: s.course.gid, t: title, k: `${runId}-${s.course.index}-${s.n}` },
        token,
      );
      if (!r.code) {
        s.lessonGid = r.data.createLesson.id;
        s.lessonId = uuidOf('Lesson', s.lessonGid)!;
      }
    } else {
      const query = { schedule: SCHEDULE, start: START, complete: COMPLETE, cancel: CANCEL, create: CREATE }[op];
      const vars: Record<string, unknown> = { id: s.lessonGid };
      // A day ahead: no reminder falls inside the run.
      if (op === 'schedule') vars.at = new Date(Date.now() + 86_400_000).toISOString();
      r = await apis.gql('write', `${op}Lesson`, query, vars, token);
    }
    if (!r.code) ack.lessons.push({ op, lessonId: s.lessonId, courseId: s.course.id });
    if (!r.code || (r.code === 'CONFLICT' && op !== 'create')) {
      s.step = (s.step + 1) % steps.length;
      if (s.step === 0) s.n++;
    }
  };
}

/** Students of the catalog enroll in free courses, each pair once. */
export function enrolling(apis: Apis, seeded: Seeded, ack: Acknowledged) {
  let next = 0;
  const courses = seeded.catalogCourses;
  return async () => {
    const k = next++;
    const student = seeded.enrollers[k % seeded.enrollers.length]!;
    const course = courses[(k + Math.floor(k / seeded.enrollers.length)) % courses.length]!;
    const r = await apis.gql('write', 'enroll', ENROLL, { c: course.gid }, seeded.tokens.get(student)!);
    if (!r.code) ack.enrollments.push({ studentId: student, courseId: course.id });
  };
}

/** Students of the live courses mark the seeded lessons of their course completed. */
export function marking(apis: Apis, seeded: Seeded, ack: Acknowledged) {
  return async () => {
    const sub = pick(seeded.subscribers);
    const lessonId = pick(seeded.seededLessons.get(sub.courseId)!);
    const r = await apis.gql(
      'write',
      'markLessonCompleted',
      MARK,
      { l: toGlobalId('Lesson', lessonId) },
      seeded.tokens.get(sub.studentId)!,
    );
    if (!r.code) ack.marks.push({ studentId: sub.studentId, lessonId });
  };
}

/** Catalog reads: anonymous course pages (cached), signed-in course pages, searches nobody made before (misses). */
export function reading(apis: Apis, seeded: Seeded) {
  const all = [...seeded.liveCourses, ...seeded.catalogCourses];
  return async (_loop: number, i: number) => {
    const kind = i % 4;
    if (kind < 2) await apis.gql('read', 'course page (anonymous)', COURSE_PAGE, { id: pick(all).gid });
    else if (kind === 2) {
      const sub = pick(seeded.subscribers);
      const course = seeded.liveCourses.find((c) => c.id === sub.courseId)!;
      await apis.gql(
        'read',
        'course page (signed in)',
        COURSE_PAGE_SIGNED_IN,
        { id: course.gid },
        seeded.tokens.get(sub.studentId),
      );
    } else
      await apis.gql('read', 'search (cache miss)', SEARCH, { s: `nothing ${Math.random().toString(36).slice(2)}` });
  };
}

/**
 * A course's title is read (filling the cache), changed, and read again anonymously on
 * whichever API the client picks next: the second read must show the acknowledged title.
 */
export function staleProbe(apis: Apis, seeded: Seeded, ack: Acknowledged, check: StaleCheck, phase: () => string) {
  const version = new Map<string, number>();
  const versionOf = (title: string) => Number(/ v(\d+)$/.exec(title)?.[1] ?? 0);
  return async (_loop: number, i: number) => {
    const course = seeded.catalogCourses[i % seeded.catalogCourses.length]!;
    await apis.gql('read', 'course title (anonymous)', TITLE, { id: course.gid });
    const v = (version.get(course.id) ?? 0) + 1;
    version.set(course.id, v);
    const w = await apis.gql(
      'write',
      'updateCourse',
      RETITLE,
      { id: course.gid, t: `${course.slug} v${v}` },
      seeded.tokens.get(course.instructorId)!,
    );
    if (w.code) return;
    ack.titles.set(course.id, v);
    const at = phase();
    const r = await apis.gql('read', 'course title (anonymous)', TITLE, { id: course.gid });
    if (r.code || !r.data?.course) {
      check.readErrors++;
      return;
    }
    check.probes++;
    const read = versionOf(r.data.course.title as string);
    if (read < v) check.stale.push({ courseId: course.id, acknowledged: v, read, phase: at });
  };
}
