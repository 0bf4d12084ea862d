import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL here (`npm run db:generate`); the app applies it itself
// (`npm run db:migrate`, and at startup under an advisory lock).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  out: './drizzle',
  strict: true,
  verbose: true,
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
});
