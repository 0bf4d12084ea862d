import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres } from '../helpers/private-postgres.js';
import { startTestApp } from '../helpers/test-app.js';
import { liveClient } from '../helpers/ws-client.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
});

/**
 * A WebSocket's session is checked in Postgres when it connects. When Postgres cannot answer,
 * that is our outage, not a bad token: the socket closes with 1013 (Try Again Later), which
 * graphql-ws clients retry, and a client with retries on connects once Postgres is back.
 */
describe('WebSocket session check during a Postgres outage', () => {
  it('closes with 1013 (not 4403 or 4500) while Postgres is down or hung, and a retrying client gets in afterwards', async () => {
    const pg = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const t = await startTestApp({ DATABASE_URL: pg.url, DB_CONNECT_TIMEOUT_S: '2', CACHE_ENABLED: 'false' });
    cleanups.push(() => t.app.close());
    const student = await t.make.user({ role: 'STUDENT' });
    const authorization = `Bearer ${await t.tokenFor(student)}`;
    const ok = liveClient(t.url, { authorization });
    await ok.connected; // the token and session are good
    await ok.dispose();

    // Down. Before: the failed query counted as "session not current", 4403 "token invalid".
    pg.stop();
    const whileDown = liveClient(t.url, { authorization });
    cleanups.push(() => whileDown.dispose());
    expect(await whileDown.closed).toBe(1013);

    // Hung. Before: the 3 s timeout was rethrown and graphql-ws closed with 4500 (fatal to clients).
    pg.start();
    pg.freeze();
    const whileHung = liveClient(t.url, { authorization });
    cleanups.push(() => whileHung.dispose());
    expect(await whileHung.closed).toBe(1013);

    // A client with its default retry policy keeps trying through the outage and gets in.
    let closes = 0;
    let connected!: () => void;
    const got = new Promise<void>((r) => (connected = r));
    const client = createClient({
      url: t.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization },
      lazy: false,
      retryAttempts: 30,
      retryWait: () => new Promise((r) => setTimeout(r, 300)),
      onNonLazyError: () => {},
      on: { closed: () => void closes++, connected: () => connected() },
    });
    cleanups.push(() => client.dispose());
    let gaveUp = false;
    client.on('error', () => {});
    // A close it does not retry surfaces as a non-lazy error; record it instead of hanging.
    const fatal = new Promise<void>((resolve) => {
      const c = client as unknown as { on(e: 'closed', f: (ev: { code: number }) => void): void };
      c.on('closed', (ev) => {
        if (ev.code !== 1013) {
          gaveUp = true;
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 4_000)); // at least one check times out meanwhile
    pg.thaw();
    await Promise.race([
      got,
      fatal,
      new Promise((_, reject) => setTimeout(() => reject(new Error('never connected')), 30_000)),
    ]);
    expect(gaveUp).toBe(false);
    expect(closes).toBeGreaterThan(0); // it really was turned away (and retried) first
  }, 90_000);
});
