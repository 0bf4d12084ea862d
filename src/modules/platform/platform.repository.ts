import { desc, sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { activityReports, courses, enrollments, lessons, notifications, outbox, users } from '../../db/schema.js';

/** Plain JSON: stored as is in activity_reports and served by `platformStats`. */
export interface PlatformStatsData {
  generatedAt: string;
  users: number;
  courses: Record<'DRAFT' | 'PUBLISHED' | 'ARCHIVED', number>;
  lessons: Record<'SCHEDULED' | 'IN_PROGRESS' | 'COMPLETED' | 'CANCELLED', number>;
  activeEnrollments: number;
  notificationsLast24h: number;
  emailsLast24h: number;
  pendingOutboxEvents: number;
}

/** One statement of scalar sub-selects: cheap enough for an admin dashboard to poll. */
export async function computePlatformStats(db: Db): Promise<PlatformStatsData> {
  const byStatus = (table: typeof courses | typeof lessons) =>
    sql`(select coalesce(jsonb_object_agg(status, n), '{}'::jsonb) from (select ${table.status} as status, count(*)::int as n from ${table} group by 1) s)`;
  const result = await db.execute(sql`select
      (select count(*)::int from ${users}) as users,
      ${byStatus(courses)} as courses,
      ${byStatus(lessons)} as lessons,
      (select count(*)::int from ${enrollments} where ${enrollments.status} = 'ACTIVE') as active_enrollments,
      (select count(*)::int from ${notifications} where ${notifications.createdAt} > now() - interval '24 hours') as notifications_24h,
      (select count(*)::int from ${notifications} where ${notifications.emailedAt} > now() - interval '24 hours') as emails_24h,
      (select count(*)::int from ${outbox} where ${outbox.relayedAt} is null) as pending_outbox`);
  const r = rowsOf<Record<string, unknown>>(result)[0]!;
  const c = r.courses as Record<string, number>;
  const l = r.lessons as Record<string, number>;
  return {
    generatedAt: new Date().toISOString(),
    users: Number(r.users),
    courses: { DRAFT: c.DRAFT ?? 0, PUBLISHED: c.PUBLISHED ?? 0, ARCHIVED: c.ARCHIVED ?? 0 },
    lessons: {
      SCHEDULED: l.SCHEDULED ?? 0,
      IN_PROGRESS: l.IN_PROGRESS ?? 0,
      COMPLETED: l.COMPLETED ?? 0,
      CANCELLED: l.CANCELLED ?? 0,
    },
    activeEnrollments: Number(r.active_enrollments),
    notificationsLast24h: Number(r.notifications_24h),
    emailsLast24h: Number(r.emails_24h),
    pendingOutboxEvents: Number(r.pending_outbox),
  };
}

/** Idempotent per UTC day: a report job that runs twice keeps the later numbers. */
export async function saveActivityReport(db: Db, day: string, stats: PlatformStatsData): Promise<void> {
  await db
    .insert(activityReports)
    .values({ day, stats })
    .onConflictDoUpdate({ target: activityReports.day, set: { stats, createdAt: new Date() } });
}

export async function latestActivityReports(
  db: Db,
  limit: number,
): Promise<Array<{ day: string; stats: PlatformStatsData }>> {
  const rows = await db.select().from(activityReports).orderBy(desc(activityReports.day)).limit(limit);
  return rows.map((r) => ({ day: r.day, stats: r.stats as PlatformStatsData }));
}
