import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { launchChromium } from '../helpers/chromium.js';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const UI_TIMEOUT = 60_000;

/**
 * The explorer in a real headless Chromium, with every request to another origin blocked:
 * it must render, run the README's Catalog query, sign in through the headers editor and
 * show a live subscription event, all from this server alone.
 */
describe('the explorer in a browser (offline)', () => {
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let instructor: UserRow;
  let course: CourseRow;
  const foreignRequests: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR', displayName: 'Grace Hopper' });
    course = await t.make.course(instructor.id, { title: 'Aardvark Anatomy' });
    userDataDir = mkdtempSync(join(tmpdir(), 'eduflow-chromium-'));
    context = await launchChromium(userDataDir);
    const origin = new URL(t.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      foreignRequests.push(url);
      return route.abort('blockedbyclient');
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Content security policy violations surface as console errors.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) pageErrors.push(msg.text());
    });
    await page.goto(`${origin}/graphql`);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: UI_TIMEOUT });
  });

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await t?.close();
  });

  /** Replaces an editor's whole text, as a user pasting would. */
  async function fill(editor: string, text: string) {
    await page.locator(`${editor} .monaco-editor`).first().click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
  }
  /** An element's text as shown (Monaco renders spaces as no-break spaces). */
  const textOf = async (selector: string) => (await page.locator(selector).innerText()).replace(/\u00a0/g, ' ');
  const response = () => textOf('.graphiql-response');
  /** Runs the query editor's operation once the tab has picked up its name (GraphiQL sends that name). */
  async function run(operationName: string) {
    await expect.poll(() => textOf('.graphiql-tab-active'), { timeout: UI_TIMEOUT }).toContain(operationName);
    await page.locator('.graphiql-execute-button').click();
  }
  /** The headers editor: open at first (the page sets initial headers); opened if not. */
  const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden)';
  async function showHeaders() {
    if (!(await page.locator(HEADERS_EDITOR).isVisible()))
      await page.getByRole('button', { name: 'Headers', exact: true }).click();
  }

  it('renders with the README example preloaded and runs it', async () => {
    await expect.poll(() => textOf('.graphiql-query-editor'), { timeout: UI_TIMEOUT }).toContain('query Catalog');
    await run('Catalog');
    await expect.poll(response, { timeout: UI_TIMEOUT }).toContain('Aardvark Anatomy');
    expect(await response()).toContain('"totalCount"');
  });

  it('shows the docs explorer from introspection', async () => {
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await expect
      .poll(() => page.locator('.graphiql-doc-explorer').innerText(), { timeout: UI_TIMEOUT })
      .toContain('Query');
  });

  it('signs in through the Authorization header', async () => {
    await showHeaders();
    await fill(HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${await t.tokenFor(instructor)}` }));
    await fill('.graphiql-query-editor', 'query Me { me { displayName role } }');
    await run('Me');
    await expect.poll(response, { timeout: UI_TIMEOUT }).toContain('Grace Hopper');
    expect(await response()).toContain('INSTRUCTOR');
  });

  it('shows a live lessonStatusChanged event over graphql-ws, triggered by a mutation', async () => {
    const lesson = await t.make.lesson(course.id, { title: 'Teeth and tongues' });
    await fill(
      '.graphiql-query-editor',
      'subscription Live { lessonStatusChanged { previousStatus status lesson { title } } }',
    );
    await run('Live');
    // The subscription is live once the server counts it; then the mutation's event must arrive.
    const started = await eventuallyStarted(t, lesson.id);
    expect(started.errors).toBeUndefined();
    await expect.poll(response, { timeout: UI_TIMEOUT }).toContain('IN_PROGRESS');
    expect(await response()).toContain('Teeth and tongues');
  });

  it('needed nothing from another origin and broke no content security rule', () => {
    expect(foreignRequests).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

/**
 * Starts the lesson once the browser's subscription is registered on the server (graphql-ws
 * subscribes asynchronously after the click), as the server's own gauge reports.
 */
async function eventuallyStarted(t: TestApp, lessonId: string) {
  const token = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
  await vi.waitFor(
    async () => {
      const n = await subscriptionCount(t);
      expect(n).toBeGreaterThan(0);
      return n;
    },
    { timeout: UI_TIMEOUT, interval: 100 },
  );
  return t.gql(`mutation($id: ID!) { startLesson(id: $id) { status } }`, { id: gid('Lesson', lessonId) }, { token });
}

async function subscriptionCount(t: TestApp): Promise<number> {
  const text = await (await fetch(new URL('/metrics', t.url))).text();
  const line = text.split('\n').find((l) => l.startsWith('eduflow_ws_subscriptions '));
  return line ? Number(line.split(' ').pop()) : 0;
}
