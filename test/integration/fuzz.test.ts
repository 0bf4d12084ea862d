import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { eventually } from '../helpers/eventually.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * Schema-driven fuzzing: for every argument of every Query and Mutation field,
 * hostile values generated from the argument's type (NUL and lone surrogates, huge and
 * negative numbers, floats for ints, out-of-range dates, deep and wide lists, prototype names
 * as keys, strings near the body limit, malformed IDs and cursors), sent over HTTP as
 * anonymous, student, instructor and admin callers; and the subscription's arguments over
 * WebSocket. Never a 500, never INTERNAL_SERVER_ERROR, never a stack trace: every refusal
 * carries a documented code (docs/api-guide.md).
 *
 * Seeded (FUZZ_SEED, FUZZ_RUNS): a failure prints its seed and path, and reproduces with them.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2_500);
const WS_RUNS = Number(process.env.FUZZ_WS_RUNS ?? 300);

/** The documented `extensions.code` values (docs/api-guide.md, API conventions → Errors). */
const DOCUMENTED_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'BAD_USER_INPUT',
  'CONFLICT',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'BAD_REQUEST',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
]);

const base64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const PROTO_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
];

/** An object whose own keys are prototype names (JSON.stringify keeps an own `__proto__`). */
function protoKeyed(values: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  PROTO_NAMES.forEach((name, i) =>
    Object.defineProperty(out, name, {
      value: values[i % values.length],
      enumerable: true,
      configurable: true,
      writable: true,
    }),
  );
  return out;
}

function deepList(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe('fuzzing every argument of the schema', () => {
  let t: TestApp;
  let pool: string[] = [];
  const tokens: Record<'anonymous' | 'student' | 'instructor' | 'admin', string | undefined> = {
    anonymous: undefined,
    student: undefined,
    instructor: undefined,
    admin: undefined,
  };

  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'production',
      MAX_SUBSCRIPTIONS_PER_USER: '0',
      OPERATION_TIMEOUT_MS: '20000',
      DB_STATEMENT_TIMEOUT_MS: '15000',
    });
    const admin = await t.make.user({ role: 'ADMIN' });
    const instructor = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const course = await t.make.course(instructor.id, { status: 'PUBLISHED' });
    const lesson = await t.make.lesson(course.id);
    const enrollment = await t.make.enrollment(student.id, course.id);
    tokens.admin = await t.tokenFor(admin);
    tokens.instructor = await t.tokenFor(instructor);
    tokens.student = await t.tokenFor(student);
    // Real IDs reach past the "not found" checks into the services.
    pool = [
      gid('User', admin.id),
      gid('User', student.id),
      gid('Course', course.id),
      gid('Lesson', lesson.id),
      gid('Enrollment', enrollment.id),
    ];
  });
  afterAll(async () => {
    await t?.close();
  });

  // ---- hostile values, by type -------------------------------------------------------------
  const weirdString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      '\uD800',
      'x\uDFFFy',
      '\uDBFF\uDBFF',
      '\r\nBcc: x@example.test',
      "' OR 1=1 --",
      '%00',
      '\\',
      '${}',
      ...PROTO_NAMES,
    ),
    fc.integer({ min: 50_000, max: 110_000 }).map((n) => 'A'.repeat(n)), // near (and past) the 100 KiB body limit
  );
  const cursorish = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => base64url(JSON.stringify(v))),
    fc
      .tuple(
        fc.constantFrom(
          'courses:PRICE:ASC',
          'courses:TITLE:DESC',
          'courses:CREATED_AT:ASC',
          'lessons:POSITION:ASC',
          'nope',
        ),
        fc.oneof(
          fc.integer(),
          fc.double(),
          fc.constant(9007199254740991),
          fc.constant(-2147483649),
          fc.constantFrom(
            '+275760-09-13T00:00:00.000Z',
            '-271821-04-20T00:00:00.000Z',
            '0000-01-01T00:00:00.000Z',
            'a\u0000',
          ),
          fc.string(),
        ),
        fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000'), fc.string({ maxLength: 40 })),
      )
      .map((parts) => base64url(JSON.stringify(parts))),
  );
  const idish = fc.oneof(
    fc
      .constantFrom(...['User', 'Course', 'Lesson', 'Enrollment', 'Notification', 'Nope', '__proto__'])
      .chain((type) => fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })).map((u) => base64url(`${type}:${u}`))),
    fc.constant(null).map(() => pool[0]!),
    fc.nat({ max: 4 }).map((i) => pool[i]!),
    weirdString,
  );
  const dateish = fc.oneof(
    fc.constantFrom(
      '0000-01-01T00:00:00Z',
      '-000001-01-01T00:00:00Z',
      '+275760-09-13T00:00:00Z',
      '9999-12-31T23:59:59Z',
      '1899-12-31T23:59:59Z',
      '2026-02-30T00:00:00Z',
      '2026-01-01',
      'now',
      '',
    ),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.integer().map((n) => n),
  );
  const intish = fc.oneof(
    fc.integer(),
    fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53, -(2 ** 53), 1e308),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constant('1'),
  );
  const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(null));

  function valueFor(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
    if (isNonNullType(type))
      return fc.oneof(
        { weight: 12, arbitrary: valueFor(type.ofType, depth) },
        { weight: 1, arbitrary: fc.constant(null) },
      );
    if (isListType(type)) {
      const item = valueFor(type.ofType, depth + 1);
      return fc.oneof(
        { weight: 6, arbitrary: fc.array(item, { maxLength: 4 }) },
        {
          weight: 1,
          // wide: one value repeated; for lists of lists or of input objects an empty object,
          // else nested wide lists multiply into bodies of hundreds of megabytes
          arbitrary: fc
            .integer({ min: 101, max: 3_000 })
            .chain((n) =>
              (isLeafType(getNamedType(type.ofType)) && !isListType(getNullableType(type.ofType))
                ? item
                : fc.constant({})
              ).map((v) => Array.from({ length: n }, () => v)),
            ),
        },
        // deep (at most 2,000: the test's own JSON.stringify recurses, and its stack is shared with
        // fast-check's; client-mistakes.test.ts sends 40,000 deep as a hand-built body)
        { weight: 1, arbitrary: fc.integer({ min: 50, max: 2_000 }).map((n) => deepList(n, 'x')) },
        { weight: 1, arbitrary: item }, // a single value where a list belongs
      );
    }
    const named = getNamedType(type);
    let own: fc.Arbitrary<unknown>;
    if (isInputObjectType(named)) {
      const fields = Object.fromEntries(
        Object.values(named.getFields()).map((f) => [f.name, depth > 3 ? anyJson : valueFor(f.type, depth + 1)]),
      );
      own = fc.oneof(
        { weight: 6, arbitrary: fc.record(fields, { requiredKeys: [] }) },
        { weight: 1, arbitrary: fc.array(anyJson, { minLength: 1, maxLength: 3 }).map((vs) => protoKeyed(vs)) },
        {
          weight: 1,
          arbitrary: fc.record(fields, { requiredKeys: [] }).map((r) => ({ ...r, ...protoKeyed([null, 1, 'x']) })),
        },
      );
    } else if (isEnumType(named)) {
      own = fc.oneof(fc.constantFrom(...named.getValues().map((v) => v.name)), weirdString);
    } else {
      switch (named.name) {
        case 'Int':
        case 'Float':
          own = intish;
          break;
        case 'Boolean':
          own = fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1));
          break;
        case 'DateTime':
          own = dateish;
          break;
        case 'ID':
          own = idish;
          break;
        default:
          own = fc.oneof(weirdString, cursorish, idish);
      }
    }
    return fc.oneof({ weight: 10, arbitrary: own }, { weight: 1, arbitrary: anyJson });
  }

  /** `query($a: T!) { field(a: $a) { __typename } }` for one root field. */
  function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
    const decls = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
    const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
    const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
    return `${kind}${decls ? `(${decls})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
  }

  function check(status: number, text: string, what: string): void {
    const context = `${what} → ${status} ${text.slice(0, 300)}`;
    expect(status, context).toBeLessThan(500);
    expect(text, context).not.toMatch(/INTERNAL_SERVER_ERROR|\n\s+at |stacktrace/);
    const body = JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> };
    for (const e of body.errors ?? []) expect(DOCUMENTED_CODES.has(String(e.extensions?.code)), context).toBe(true);
  }

  it(`answers ${RUNS} hostile HTTP requests without a 500`, async () => {
    const schema = t.app.schema;
    const roots = (['query', 'mutation'] as const).flatMap((kind) => {
      const type = kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
      return Object.values(type.getFields())
        .filter((f) => f.args.length > 0)
        .map((field) => ({ kind, field }));
    });
    expect(roots.length).toBeGreaterThan(20);
    const cases = fc.oneof(
      ...roots.map(({ kind, field }) =>
        fc.record({
          name: fc.constant(field.name),
          query: fc.constant(operationFor(kind, field)),
          variables: fc.record(Object.fromEntries(field.args.map((a) => [a.name, valueFor(a.type)])), {
            requiredKeys: [],
          }),
          viewer: fc.constantFrom('anonymous', 'student', 'instructor', 'admin') as fc.Arbitrary<keyof typeof tokens>,
        }),
      ),
    );
    let sent = 0;
    // fc.check rather than fc.assert: a counterexample can be a list thousands deep, which
    // fast-check's own report cannot print (its stringifier recurses); ours names the case.
    const run = await fc.check(
      fc.asyncProperty(cases, async ({ name, query, variables, viewer }) => {
        const token = tokens[viewer];
        const res = await fetch(t.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        sent++;
        check(res.status, await res.text(), `${viewer} ${name}`);
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (run.failed) {
      const reason = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
      throw new Error(`fuzz case ${run.numRuns} failed (FUZZ_SEED=${SEED}, path ${run.counterexamplePath}): ${reason}`);
    }
    expect(sent).toBe(RUNS);
  }, 240_000);

  it(`answers ${WS_RUNS} hostile subscription arguments over WebSocket without an internal error`, async () => {
    const field = t.app.schema.getSubscriptionType()!.getFields().lessonStatusChanged!;
    const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const messages: Array<{ id?: string; type: string; payload?: unknown }> = [];
    let closeCode: number | undefined;
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    socket.on('close', (code) => (closeCode = code));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${tokens.student}` } }));
    const waitFor = async (done: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!done() && closeCode === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    };
    await waitFor(() => messages.some((m) => m.type === 'connection_ack'));
    // Messages past the socket's 64 KiB limit close it (1009, by design); the HTTP run covers
    // values that large.
    const values = fc
      .sample(valueFor(field.args[0]!.type), { seed: SEED, numRuns: WS_RUNS })
      .filter((v) => JSON.stringify(v ?? null).length < 60_000);
    expect(values.length).toBeGreaterThan(WS_RUNS / 2);
    const query = operationFor('query', field)
      .replace(/^query/, 'subscription')
      .replace('{ __typename }', '{ status }');
    for (const [i, value] of values.entries()) {
      const id = `s${i}`;
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables: { courseId: value } } }));
      socket.send(JSON.stringify({ id, type: 'complete' }));
    }
    // A sentinel that succeeds: once it is answered, every earlier message has been handled.
    socket.send(JSON.stringify({ id: 'sentinel', type: 'subscribe', payload: { query: '{ __typename }' } }));
    await waitFor(() => messages.some((m) => m.id === 'sentinel' && m.type === 'complete'));
    socket.close();
    // Subscriptions completed by the client may still be setting up on the server: let them
    // all end before the app (and its pool) closes.
    await eventually(
      async () => t.app.ws.subscriptions + t.app.ws.connections,
      (n) => n === 0,
    );
    // ... and their queries (a burst of setups opens pool connections that are still being
    // set up meanwhile; closing the pool under one makes postgres.js reject a promise nobody holds).
    let quietSamples = 0;
    await eventually(
      async () => {
        const [row] = rowsOf<{ n: number }>(
          await t.app.database.db.execute(
            sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state <> 'idle' and pid <> pg_backend_pid()`,
          ),
        );
        quietSamples = row?.n === 0 ? quietSamples + 1 : 0;
        return quietSamples;
      },
      (n) => n >= 5,
      20_000,
      100,
    );
    expect(closeCode === undefined || closeCode === 1000 || closeCode === 1005, `socket closed with ${closeCode}`).toBe(
      true,
    );
    expect(messages.some((m) => m.id === 'sentinel' && m.type === 'complete')).toBe(true);
    for (const m of messages.filter((x) => x.type === 'error')) {
      const text = JSON.stringify(m.payload);
      expect(text).not.toMatch(/INTERNAL_SERVER_ERROR|\n\s+at |stacktrace/);
      for (const e of m.payload as Array<{ extensions?: { code?: string } }>)
        expect(DOCUMENTED_CODES.has(String(e.extensions?.code)), text).toBe(true);
    }
  }, 120_000);
});
