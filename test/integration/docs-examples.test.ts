/**
 * Every GraphQL operation shown in README.md and docs/**\/*.md, executed against a real server
 * (real Postgres and Redis, the demo catalog loaded, the notification worker running), so no
 * example can rot.
 *
 * How to write an example this test runs:
 *
 * - Put operations in a fenced block tagged `graphql`. A block may hold several operations; they
 *   run in order, each as its own request (fragments of the block go with each). Only executable
 *   documents belong in `graphql` blocks: tag schema excerpts `graphqls`.
 * - After the language tag, `as=student`, `as=instructor` or `as=admin` runs the block signed in
 *   as that demo account (student01@, ada@, admin@eduflow.local); without it, anonymously.
 *   `expect=CODE` means every operation of the block must answer an error with that
 *   `extensions.code` (an example of a refusal); otherwise each must answer data and no errors.
 * - Variables: a block tagged `json variables` right after the `graphql` block, one object for
 *   the whole block (each operation is sent the variables it declares). A string value
 *   `"{{name}}"` is filled from fixtures made fresh for each block (see `fixtures` below):
 *     {{course}}        a PUBLISHED course taught by the demo instructor, the demo student
 *                       actively enrolled, with one SCHEDULED lesson in 2030
 *     {{lesson}}        that lesson
 *     {{draftCourse}}   a DRAFT course taught by the demo instructor
 *     {{openCourse}}    a PUBLISHED course of the demo instructor nobody is enrolled in
 *     {{paidCourse}}    a PUBLISHED paid course of the demo instructor nobody is entitled to
 *     {{student}}       the demo student's user ID
 *     {{otherSession}}  another signed-in session of the block's account
 *     {{notification}}  a notification of the block's account
 *     {{cursor}}        a lessonStatusChanged cursor of {{course}} (replay from there)
 *     {{resetToken}}    the token of the latest password-reset link mailed (a local SMTP server)
 *     {{verifyToken}}   the token of the latest email-verification link mailed
 *     {{quiz}}          a quiz (one SHORT_TEXT question) on {{lesson}}, by the demo instructor
 *     {{question}}      that question
 *     {{attempt}}       the demo student's attempt in progress at {{quiz}}
 *   A new kind of example needing new data: add a fixture to `fixtures`.
 * - Subscriptions run over WebSocket. The test subscribes, then creates a scheduled lesson in
 *   {{course}} as the demo instructor (a lesson event, a statistics change and a notification to
 *   the enrolled student) until a first result arrives; it must carry data and no errors.
 * - curl examples in `sh` blocks: the JSON after `-d '` is sent as it is, with the demo
 *   instructor's token when the command says `$TOKEN`.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { Kind, parse, print, type DefinitionNode, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { toGlobalId, uuidOf } from '../../src/graphql/global-id.js';
import { createLogger } from '../../src/logging/logger.js';
import { encodeEventCursor } from '../../src/modules/lessons/lesson.events.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '../../src/seed/demo-data.js';
import { startSmtpSink } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { liveClient, subscribe } from '../helpers/ws-client.js';

type Role = 'anonymous' | 'student' | 'instructor' | 'admin';

interface Example {
  readonly where: string;
  readonly kind: 'graphql' | 'curl';
  readonly source: string;
  readonly as: Role;
  readonly expectCode?: string;
  readonly variables: Record<string, unknown>;
}

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.md') ? [join(dir, e.name)] : [],
    );
  return ['README.md', ...walk('docs')];
}

function examplesIn(file: string): Example[] {
  const text = readFileSync(file, 'utf8');
  const fences = [...text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    info: m[1]!.trim().split(/\s+/),
    body: m[2]!,
    start: m.index,
    end: m.index + m[0].length,
    line: text.slice(0, m.index).split('\n').length,
  }));
  const examples: Example[] = [];
  fences.forEach((fence, i) => {
    const [lang, ...attrs] = fence.info;
    const where = `${file}:${fence.line}`;
    const attr = (name: string) => attrs.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    if (lang === 'graphql') {
      const next = fences[i + 1];
      const hasVariables =
        next?.info[0] === 'json' && next.info[1] === 'variables' && text.slice(fence.end, next.start).trim() === '';
      examples.push({
        where,
        kind: 'graphql',
        source: fence.body,
        as: (attr('as') ?? 'anonymous') as Role,
        expectCode: attr('expect'),
        variables: hasVariables ? (JSON.parse(next.body) as Record<string, unknown>) : {},
      });
    } else if (lang === 'sh' || lang === 'bash') {
      for (const m of fence.body.matchAll(/-d '(\{[^']*\})'/g)) {
        examples.push({
          where,
          kind: 'curl',
          source: m[1]!,
          as: fence.body.includes('$TOKEN') ? 'instructor' : 'anonymous',
          variables: {},
        });
      }
    }
  });
  return examples;
}

const EXAMPLES = markdownFiles().flatMap(examplesIn);
const LOGIN = `mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken user { id } } }`;

describe('every GraphQL operation in README.md and docs/', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  const logLines: string[] = [];
  const tokens = new Map<Role, string>();
  const userIds = new Map<Role, string>();
  const accounts: Record<Exclude<Role, 'anonymous'>, string> = DEMO_ACCOUNTS;

  const signIn = async (role: Exclude<Role, 'anonymous'>) => {
    const res = await t.gql(LOGIN, { e: accounts[role], p: DEMO_PASSWORD });
    expect(res.errors, `sign-in as ${role}`).toBeUndefined();
    return res.data.login as { accessToken: string; user: { id: string } };
  };

  beforeAll(async () => {
    const log = createLogger('info', {}, { write: (line: string) => void logLines.push(line) });
    smtp = await startSmtpSink();
    t = await startTestApp(
      {
        SEED_DEMO_DATA: 'true',
        NOTIFICATION_WORKER: 'on',
        OUTBOX_POLL_MS: '100',
        LOG_LEVEL: 'info',
        SMTP_URL: smtp.url,
      },
      { log },
    );
    for (const role of ['student', 'instructor', 'admin'] as const) {
      const { accessToken, user } = await signIn(role);
      tokens.set(role, accessToken);
      userIds.set(role, uuidOf('User', user.id)!);
    }
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** The token of the latest link to `path` in an email the server logged. */
  // The links are mailed, never logged: read them from the messages a local SMTP server got.
  const linkTokenFromMail = (path: string) =>
    vi.waitFor(
      () => {
        const raws = smtp.received.map((m) => m.raw.replace(/\r\n/g, '\n').replace(/=\n/g, '').replace(/=3D/g, '='));
        const link = raws
          .flatMap((raw) => raw.match(new RegExp(`https?://[^\\s"<>]+/${path}\\?token=[A-Za-z0-9_%-]+`, 'g')) ?? [])
          .at(-1);
        if (!link) throw new Error(`no ${path} link mailed yet`);
        return decodeURIComponent(new URL(link).searchParams.get('token')!);
      },
      { timeout: 20_000, interval: 100 },
    );

  /** Fresh data for one block; each fixture is made the first time the block asks for it. */
  function fixtures(as: Role) {
    const instructorId = () => userIds.get('instructor')!;
    const made = new Map<string, Promise<string>>();
    const once = (name: string, make: () => Promise<string>) => {
      if (!made.has(name)) made.set(name, make());
      return made.get(name)!;
    };
    const courseRow = async () => {
      const course = await t.make.course(instructorId());
      const lesson = await t.make.lesson(course.id, { scheduledAt: new Date('2030-01-15T18:00:00Z') });
      await t.make.enrollment(userIds.get('student')!, course.id);
      return { course, lesson };
    };
    // Made on first use only: a promise nobody awaits would reject after the database is gone.
    const row = () => once('row', async () => JSON.stringify(await courseRow()));
    const rowOf = async () => JSON.parse(await row()) as { course: { id: string }; lesson: { id: string } };
    const quizRow = () =>
      once('quizRow', async () => {
        const res = await t.gql(
          `mutation($l: ID!) { createQuiz(input: { lessonId: $l, title: "Docs quiz", questions: [
            { kind: SHORT_TEXT, prompt: "Capital of France?", acceptedAnswers: ["Paris"] }] }) { id questions { id } } }`,
          { l: toGlobalId('Lesson', (await rowOf()).lesson.id) },
          { token: tokens.get('instructor') },
        );
        return JSON.stringify(res.data.createQuiz);
      });
    const make: Record<string, () => Promise<string>> = {
      course: async () => toGlobalId('Course', (await rowOf()).course.id),
      lesson: async () => toGlobalId('Lesson', (await rowOf()).lesson.id),
      draftCourse: async () => toGlobalId('Course', (await t.make.course(instructorId(), { status: 'DRAFT' })).id),
      openCourse: async () => toGlobalId('Course', (await t.make.course(instructorId())).id),
      paidCourse: async () => toGlobalId('Course', (await t.make.course(instructorId(), { priceCents: 2_900 })).id),
      student: async () => toGlobalId('User', userIds.get('student')!),
      otherSession: async () => {
        const { accessToken } = await signIn(as as Exclude<Role, 'anonymous'>);
        const res = await t.gql(`{ me { sessions { id current } } }`, {}, { token: accessToken });
        return (res.data.me.sessions as Array<{ id: string; current: boolean }>).find((s) => s.current)!.id;
      },
      notification: async () => {
        const [n] = rowsOf<{ id: string }>(
          await t.app.database.db.execute(sql`
            insert into notifications (event_id, recipient_id, kind, title, body)
            values (${randomUUID()}, ${userIds.get(as as Exclude<Role, 'anonymous'>)!}, 'ENROLLMENT_CONFIRMED', 'Welcome aboard', 'You are enrolled.')
            returning id`),
        );
        return toGlobalId('Notification', n!.id);
      },
      cursor: async () => {
        const courseId = (await rowOf()).course.id;
        await createLesson(toGlobalId('Course', courseId));
        const [e] = rowsOf<{ seq: string }>(
          await t.app.database.db.execute(
            sql`select max(seq)::text as seq from lesson_events where course_id = ${courseId}::uuid`,
          ),
        );
        return encodeEventCursor(Number(e!.seq));
      },
      quiz: async () => JSON.parse(await quizRow()).id,
      question: async () => JSON.parse(await quizRow()).questions[0].id,
      attempt: async () => {
        const res = await t.gql(
          `mutation($q: ID!) { startQuizAttempt(quizId: $q) { id } }`,
          { q: JSON.parse(await quizRow()).id },
          { token: tokens.get('student') },
        );
        return res.data.startQuizAttempt.id as string;
      },
      resetToken: () => linkTokenFromMail('reset-password'),
      verifyToken: () => linkTokenFromMail('verify-email'),
    };
    return async (name: string) => {
      const fixture = make[name];
      if (!fixture) throw new Error(`unknown placeholder {{${name}}}: add it to fixtures()`);
      return once(name, fixture);
    };
  }

  /** What the subscriptions wait for: a scheduled lesson created in the course by its instructor. */
  async function createLesson(courseId: string) {
    const res = await t.gql(
      `mutation($c: ID!) { createLesson(input: { courseId: $c, title: "Docs trigger", scheduledAt: "2030-03-01T18:00:00Z" }) { id } }`,
      { c: courseId },
      { token: tokens.get('instructor') },
    );
    expect(res.errors).toBeUndefined();
  }

  async function resolve(value: unknown, fixture: (name: string) => Promise<string>): Promise<unknown> {
    if (typeof value === 'string') {
      const m = /^\{\{(\w+)\}\}$/.exec(value);
      return m ? fixture(m[1]!) : value;
    }
    if (Array.isArray(value)) return Promise.all(value.map((v) => resolve(v, fixture)));
    if (value && typeof value === 'object') {
      const entries = await Promise.all(
        Object.entries(value).map(async ([k, v]) => [k, await resolve(v, fixture)] as const),
      );
      return Object.fromEntries(entries);
    }
    return value;
  }

  async function runSubscription(
    query: string,
    variables: Record<string, unknown>,
    token: string | undefined,
    fixture: (name: string) => Promise<string>,
  ) {
    const live = liveClient(t.url, token ? { authorization: `Bearer ${token}` } : undefined);
    try {
      await live.connected;
      const sub = subscribe(live, query, variables);
      const course = fixture('course');
      for (let i = 0; i < 30 && sub.results.length === 0; i++) {
        if (!(await sub.quiet(i === 0 ? 300 : 700))) break;
        await createLesson(await course);
      }
      const first = await sub.next(10_000);
      sub.stop();
      return first as { data?: unknown; errors?: unknown };
    } finally {
      await live.dispose();
    }
  }

  it('finds the examples (README and docs have some of each kind)', () => {
    expect(EXAMPLES.filter((e) => e.kind === 'graphql').length).toBeGreaterThan(20);
    expect(EXAMPLES.filter((e) => e.kind === 'curl').length).toBeGreaterThan(2);
    expect(EXAMPLES.some((e) => e.where.startsWith('README.md'))).toBe(true);
  });

  it.each(EXAMPLES.map((e) => [e.where, e] as const))('%s', { timeout: 120_000 }, async (_where, example) => {
    const token = example.as === 'anonymous' ? undefined : tokens.get(example.as);
    const fixture = fixtures(example.as);
    if (example.kind === 'curl') {
      const res = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: example.source,
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown };
      expect(body.errors, example.source).toBeUndefined();
      expect(res.status).toBe(200);
      expect(body.data).toBeTruthy();
      return;
    }
    const document = parse(example.source);
    const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    const operations = document.definitions.filter(
      (d: DefinitionNode): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    expect(operations.length, 'a graphql block holds operations only').toBe(
      document.definitions.length - fragments.length,
    );
    const allVariables = (await resolve(example.variables, fixture)) as Record<string, unknown>;
    for (const op of operations) {
      const query = [op, ...fragments].map((d) => print(d)).join('\n');
      const declared = (op.variableDefinitions ?? []).map((v) => v.variable.name.value);
      const variables = Object.fromEntries(declared.filter((n) => n in allVariables).map((n) => [n, allVariables[n]]));
      const result =
        op.operation === 'subscription'
          ? await runSubscription(query, variables, token, fixture)
          : await t.gql(query, variables, { token });
      const codes = ((result.errors as Array<{ extensions?: { code?: string } }> | undefined) ?? []).map(
        (e) => e.extensions?.code,
      );
      if (example.expectCode) {
        expect(codes, query).toContain(example.expectCode);
      } else {
        expect(result.errors, query).toBeUndefined();
        expect(result.data, query).toBeTruthy();
      }
    }
  });
});
