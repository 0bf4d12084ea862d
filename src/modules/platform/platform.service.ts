import type { Db } from '../../db/client.js';
import { computePlatformStats, latestActivityReports, type PlatformStatsData } from './platform.repository.js';

/** Platform-wide figures for admins: what the resolver asks, the repository answers. */
export class PlatformService {
  constructor(private readonly db: Db) {}

  stats(): Promise<PlatformStatsData> {
    return computePlatformStats(this.db);
  }

  latestReports(count: number): Promise<Array<{ day: string; stats: PlatformStatsData }>> {
    return latestActivityReports(this.db, count);
  }
}
