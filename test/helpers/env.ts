/** Where the test services are; CI and every development machine have both on localhost. */
export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';
export const TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? DEFAULT_PG_ADMIN_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface TestRun {
  runId: string;
  templateDb: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    testRun: TestRun;
  }
}
