import { date, jsonb, pgTable } from 'drizzle-orm/pg-core';
import { createdAt } from '../../db/columns.js';

/** One row per UTC day: what the daily activity report found (see the maintenance jobs). */
export const activityReports = pgTable('activity_reports', {
  day: date('day', { mode: 'string' }).primaryKey(),
  stats: jsonb('stats').notNull(),
  createdAt: createdAt(),
});
