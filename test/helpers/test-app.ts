import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { Logger } from '../../src/logging/logger.js';
import type { Role } from '../../src/db/schema.js';
import { createSession } from '../../src/modules/accounts/session.repository.js';
import { createTestDatabase, testRedisPrefix } from './databases.js';
import { TEST_JWT_SECRET } from './env.js';
import { testRedisEnv } from './redis-topology.js';
import { makeFactories, type Factories } from './factories.js';
import { graphqlClient, type GraphQLClient } from './graphql-client.js';

export interface TestApp {
  readonly app: App;
  readonly url: string;
  readonly databaseUrl: string;
  readonly redisPrefix: string;
  readonly gql: GraphQLClient;
  readonly make: Factories;
  /** Counts SQL statements sent while `fn` runs (the app serves one request at a time here). */
  countQueries<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }>;
  /** A valid access token for a user, minted by the app's own token service. */
  tokenFor(user: { id: string; role: Role }): Promise<string>;
  close(): Promise<void>;
}

/**
 * A real app on a real socket, over its own fresh database (cloned from the migrated
 * template) and its own Redis key prefix. `env` overrides configuration variables.
 */
export async function startTestApp(
  env: Record<string, string | undefined> = {},
  options: {
    log?: Logger;
    /** The URL the app connects to its database with (a proxy in front of it, say). */
    routeDatabase?: (url: string) => string;
  } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const redisPrefix = testRedisPrefix();
  let statements = 0;
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.routeDatabase ? options.routeDatabase(database.url) : database.url,
    // A test that names its own Redis (a private server it stops) gets only that one.
    ...('REDIS_URL' in env ? {} : testRedisEnv()),
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    SEED_DEMO_DATA: 'false',
    // Most tests exercise requests alone (and count their SQL); notification tests turn the
    // in-process relay and workers on.
    NOTIFICATION_WORKER: 'off',
    // Tests run many requests from one address: the abuse limits are tested on their own.
    COST_BUDGET_PER_MINUTE: '100000000',
    MAX_SOCKETS_PER_IP: '0',
    // The revocation refresh reads Postgres every second; its statements would land in the
    // per-request counts. Revocation between instances is tested with real processes.
    REVOCATION_REFRESH_MS: '60000',
    // TEST_GRAPHQL_JIT_AFTER=1 runs every query of the suite compiled by graphql-jit (default:
    // from a document's second execution, as in production).
    GRAPHQL_JIT_AFTER: process.env.TEST_GRAPHQL_JIT_AFTER,
    // Production refuses to start without SMTP unless told the log transport is meant.
    MAIL_TRANSPORT: env.SMTP_URL ? 'smtp' : 'log',
    ...env,
  });
  const app = await createApp(config, { log: options.log, onQuery: () => void statements++ });
  const url = await app.listen();
  const gql = graphqlClient(url);
  return {
    app,
    url,
    databaseUrl: database.url,
    redisPrefix,
    gql,
    make: makeFactories(app.database.db),
    async countQueries(fn) {
      const before = statements;
      const result = await fn();
      return { result, statements: statements - before };
    },
    async tokenFor(user) {
      // A real session row, as sign-in makes: WebSocket connections check that it is live.
      const { session } = await createSession(app.database.db, user.id, 1, 'vitest');
      const { token } = await app.tokens.signAccessToken({ userId: user.id, role: user.role, sessionId: session.id });
      return token;
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
