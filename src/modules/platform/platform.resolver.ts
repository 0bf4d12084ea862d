import { auth } from '../../auth/auth.directive.js';
import { AppError } from '../../errors/app-error.js';
import { Arg, Directive, Int, Query, Resolver } from '../../graphql/type-graphql.js';
import type { PlatformStatsData } from './platform.repository.js';
import type { PlatformService } from './platform.service.js';
import { ActivityReport, PlatformStats } from './platform.type.js';

const MAX_REPORTS = 90;

@Resolver()
export class PlatformResolver {
  constructor(private readonly platform: PlatformService) {}

  @Query(() => PlatformStats, { description: 'Live platform-wide counts. Admins only.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  async platformStats(): Promise<PlatformStats> {
    return toGraphQL(await this.platform.stats());
  }

  @Query(() => [ActivityReport], {
    description: 'The most recent daily activity reports, newest first. Admins only.',
    complexity: ({ args, childComplexity }) =>
      1 + Math.min(MAX_REPORTS, Math.max(1, Number(args.last ?? 7))) * Math.max(1, childComplexity),
  })
  @Directive(auth({ requires: ['ADMIN'] }))
  async activityReports(
    @Arg('last', () => Int, { nullable: true, description: `1..${MAX_REPORTS} (default 7).` }) last: number | null,
  ): Promise<ActivityReport[]> {
    const n = last ?? 7;
    if (n < 1 || n > MAX_REPORTS) throw AppError.badInput({ last: `must be between 1 and ${MAX_REPORTS}` });
    return (await this.platform.latestReports(n)).map((r) => ({ day: r.day, stats: toGraphQL(r.stats) }));
  }
}

function toGraphQL(s: PlatformStatsData): PlatformStats {
  return {
    ...s,
    generatedAt: new Date(s.generatedAt),
    courses: Object.entries(s.courses).map(([status, count]) => ({ status, count })),
    lessons: Object.entries(s.lessons).map(([status, count]) => ({
      status: status as keyof PlatformStatsData['lessons'],
      count,
    })),
  };
}
