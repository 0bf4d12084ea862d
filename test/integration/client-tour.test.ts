import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const run = promisify(execFile);
const PASSWORD = 'tour-guide-passphrase-42';

/** `npm run example:recipes`: the four client recipes, run as a newcomer runs them, against a real API. */
describe('npm run example:recipes', () => {
  let t: TestApp;
  const email = `tour-${Date.now()}@example.test`;

  beforeAll(async () => {
    t = await startTestApp();
    const instructor = await t.make.user({ role: 'INSTRUCTOR', email, passwordHash: await hashPassword(PASSWORD) });
    await t.make.course(instructor.id, { title: 'Touring course' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in, queries with Apollo Client, urql and Relay, and receives a live event over graphql-ws', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/clients/run.ts'], {
      env: { ...process.env, EDUFLOW_API_URL: t.url, EDUFLOW_EMAIL: email, EDUFLOW_PASSWORD: PASSWORD },
      timeout: 60_000,
    });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Apollo Client: signed in as .* \(INSTRUCTOR\)$/);
    expect(lines[1]).toMatch(/^Apollo Client: \d+ courses; the first three: /);
    expect(lines[2]).toMatch(/^urql: node\(id: ".+"\) is the course \{"id":/);
    expect(lines[3]).toMatch(/^Relay: the store holds Course /);
    expect(lines[4]).toMatch(/^graphql-ws: in "Touring course": .*"lessonStatusChanged"/);
    expect(lines[4]).toContain('Client recipe tour');
    // The tour leaves the course as it found it.
    const left = await t.gql(`{ courses(first: 5) { edges { node { title lessonCount } } } }`);
    expect(left.data.courses.edges).toEqual([{ node: { title: 'Touring course', lessonCount: 0 } }]);
  });

  it('says in one line when no API answers', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', 'examples/clients/run.ts'], {
      env: { ...process.env, EDUFLOW_API_URL: 'http://127.0.0.1:9/graphql' },
      timeout: 60_000,
    }).catch((err: { code: number; stderr: string }) => err);
    expect('code' in failed && failed.code).toBe(1);
    expect((failed as { stderr: string }).stderr.trim()).toMatch(
      /^client recipes: .*\(is the API running\? npm start\)$/,
    );
  });
});
