import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardServer } from '../../examples/dashboard/server.js';
import { DEMO_ACCOUNTS, DEMO_PASSWORD } from '../../src/seed/demo-data.js';
import { launchChromium } from '../helpers/chromium.js';
import { createTestDatabase, testRedisPrefix } from '../helpers/databases.js';
import { TEST_JWT_SECRET, TEST_REDIS_URL } from '../helpers/env.js';
import { graphqlClient, type GraphQLClient } from '../helpers/graphql-client.js';
import { freePort } from '../helpers/services.js';
import { spawnApi, type RunningApi } from '../helpers/spawn-api.js';

const UI_TIMEOUT = 60_000;
const COURSE = 'Introduction to Python';

/**
 * The live instructor dashboard (examples/dashboard) in headless Chromium, every request to a
 * third origin blocked, against a real API process on the demo catalog: it signs in as the demo
 * instructor, follows lesson changes and course statistics, and rides out an API restart.
 */
describe('the live instructor dashboard in a browser', () => {
  let api: RunningApi;
  let env: Record<string, string>;
  let dashboard: DashboardServer;
  let context: BrowserContext;
  let page: Page;
  let gql: GraphQLClient;
  let token: string;
  let dropDatabase: () => Promise<void>;
  let userDataDir: string;
  /** While set, the page's WebSocket connections are refused (1013, try again later). */
  let holdSockets = false;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];
  const lessons = new Map<string, string>(); // title → id

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    env = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: testRedisPrefix(),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'warn',
      SEED_DEMO_DATA: 'true',
      NOTIFICATION_WORKER: 'off',
      COST_BUDGET_PER_MINUTE: '100000000',
      PORT: String(await freePort()),
    };
    api = await spawnApi(env);
    gql = graphqlClient(api.url);
    const login = await gql(
      `mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }`,
      { e: DEMO_ACCOUNTS.instructor, p: DEMO_PASSWORD },
    );
    token = login.data.login.accessToken;
    const course = await gql(
      `{ me { coursesTaught(first: 20) { edges { node { title lessons(first: 20) { edges { node { id title } } } } } } } }`,
      {},
      { token },
    );
    expect(course.errors).toBeUndefined();
    const python = course.data.me.coursesTaught.edges.find((e: any) => e.node.title === COURSE).node;
    for (const { node } of python.lessons.edges) lessons.set(node.title, node.id);

    dashboard = await startDashboard({ apiUrl: api.url });
    userDataDir = mkdtempSync(join(tmpdir(), 'eduflow-chromium-'));
    context = await launchChromium(userDataDir);
    const allowed = new Set([new URL(dashboard.url).origin, new URL(api.url).origin]);
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (allowed.has(new URL(url).origin)) return route.continue();
      foreignRequests.push(url);
      return route.abort('blockedbyclient');
    });
    await context.routeWebSocket(
      () => true,
      (ws) => {
        if (!allowed.has(new URL(ws.url().replace(/^ws/, 'http')).origin)) {
          foreignRequests.push(ws.url());
          return ws.close({ code: 1008, reason: 'blocked' });
        }
        if (holdSockets) return ws.close({ code: 1013, reason: 'held by the test' });
        ws.connectToServer();
      },
    );
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(dashboard.url);
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await dashboard?.close();
    await api?.stop();
    await dropDatabase?.();
  });

  const statusOf = (title: string) =>
    page.locator(`li[data-lesson-id="${lessons.get(title)}"] .status`).innerText({ timeout: UI_TIMEOUT });
  const courseCard = () => page.locator('section.course', { hasText: COURSE });
  const stat = (name: string) => courseCard().locator(`[data-stat="${name}"]`).innerText({ timeout: UI_TIMEOUT });
  /** Resolves once the API counts every subscription of the page: one for lessons, one per course. */
  async function subscribed() {
    const courses = await page.locator('section.course').count();
    await expect.poll(() => subscriptionCount(api.url), { timeout: UI_TIMEOUT }).toBe(courses + 1);
  }
  const mutate = async (query: string, variables: Record<string, unknown>, as = token) => {
    const res = await gql(query, variables, { token: as });
    expect(res.errors).toBeUndefined();
    return res.data;
  };
  const START = `mutation($id: ID!) { startLesson(id: $id) { status } }`;

  it('signs in as the demo instructor (prefilled) and shows their courses and lessons', async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#viewer').innerText(), { timeout: UI_TIMEOUT }).toContain('Ada Lovelace');
    await expect.poll(() => statusOf(`${COURSE}: part 7`), { timeout: UI_TIMEOUT }).toBe('SCHEDULED');
    expect(await page.locator('section.course').count()).toBe(7); // every third demo course
    await expect.poll(() => page.locator('#connection').innerText(), { timeout: UI_TIMEOUT }).toBe('live');
    await expect.poll(() => stat('active-enrollments'), { timeout: UI_TIMEOUT }).toMatch(/^\d+ enrolled$/);
  });

  it('shows a lesson started through the API within a second', async () => {
    await subscribed();
    await mutate(START, { id: lessons.get(`${COURSE}: part 7`) });
    await expect.poll(() => statusOf(`${COURSE}: part 7`), { timeout: 1_000, interval: 25 }).toBe('IN_PROGRESS');
  });

  it('updates the course statistics after a completion mark', async () => {
    const email = `dashboard-${Date.now()}@example.com`;
    const student = await gql(
      `mutation($e: String!) { register(input: { email: $e, password: "a-long-passphrase-42", displayName: "Dee" }) { accessToken } }`,
      { e: email },
    );
    const studentToken = student.data.register.accessToken;
    const courseId = await courseCard().getAttribute('data-course-id');
    const enrolledBefore = await stat('active-enrollments');
    await mutate(`mutation($c: ID!) { enroll(courseId: $c) { id } }`, { c: courseId }, studentToken);
    await expect.poll(() => stat('active-enrollments'), { timeout: 10_000 }).not.toBe(enrolledBefore);
    const progressBefore = await stat('average-progress');
    await mutate(
      `mutation($l: ID!) { markLessonCompleted(lessonId: $l) { id } }`,
      { l: lessons.get(`${COURSE}: part 1`) },
      studentToken,
    );
    await expect.poll(() => stat('average-progress'), { timeout: 10_000 }).not.toBe(progressBefore);
  });

  it('reconnects after an API restart and replays the change it missed, once', async () => {
    const missed = `${COURSE}: part 8`;
    expect(await statusOf(missed)).toBe('SCHEDULED');
    holdSockets = true;
    await api.stop();
    await expect.poll(() => page.locator('#connection').innerText(), { timeout: UI_TIMEOUT }).toBe('reconnecting');
    api = await spawnApi(env);
    // The page cannot reconnect yet: this change happens while it is away.
    await mutate(START, { id: lessons.get(missed) });
    expect(await statusOf(missed)).toBe('SCHEDULED');
    holdSockets = false;
    await expect.poll(() => statusOf(missed), { timeout: UI_TIMEOUT }).toBe('IN_PROGRESS');
    await expect.poll(() => page.locator('#connection').innerText(), { timeout: UI_TIMEOUT }).toBe('live');
    const entries = await page.locator('#events li').allInnerTexts();
    expect(entries.filter((e) => e.includes(`${missed}: SCHEDULED → IN_PROGRESS`))).toHaveLength(1);
    expect(entries.filter((e) => e.includes(`${COURSE}: part 7: SCHEDULED → IN_PROGRESS`))).toHaveLength(1);

    // And it is live again afterwards.
    await subscribed();
    await mutate(`mutation($id: ID!) { completeLesson(id: $id) { status } }`, { id: lessons.get(missed) });
    await expect.poll(() => statusOf(missed), { timeout: 1_000, interval: 25 }).toBe('COMPLETED');
  });

  it('needed nothing from another origin and logged no error', () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

async function subscriptionCount(apiUrl: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', apiUrl))).text();
  const line = text.split('\n').find((l) => l.startsWith('eduflow_ws_subscriptions '));
  return line ? Number(line.split(' ').pop()) : 0;
}
