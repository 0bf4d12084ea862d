import { Args, Ctx, Directive, FieldResolver, Float, Int, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import { Course } from '../courses/index.js';
import { EnrollmentProgress, CourseStats, type ProgressService } from '../progress/index.js';
import type { CourseStatsData } from '../progress/progress.repository.js';
import type { ProgressData } from '../progress/progress.repository.js';
import { GradebookConnection, GradebookRow } from './gradebook.type.js';
import type { GradebookRowData, QuizService } from './quiz.service.js';

/** Completion on a student's progress: here, because it depends on quizzes. */
@Resolver(() => EnrollmentProgress)
export class ProgressCompletionResolver {
  @FieldResolver(() => Int, { complexity: 2 })
  async requiredQuizzes(@Root() p: ProgressData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.completion.load(`${p.courseId}|${p.studentId}`)).requiredQuizzes;
  }

  @FieldResolver(() => Int, { complexity: 2 })
  async passedRequiredQuizzes(@Root() p: ProgressData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.completion.load(`${p.courseId}|${p.studentId}`)).passedRequiredQuizzes;
  }

  @FieldResolver(() => Boolean, {
    description: 'Every counted lesson completed and every required quiz passed.',
    complexity: 2,
  })
  async completed(@Root() p: ProgressData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.completion.load(`${p.courseId}|${p.studentId}`)).completed;
  }

  @FieldResolver(() => DateTime, {
    nullable: true,
    description:
      'When the course was first completed (a later unmark does not clear it, nor take the certificate back).',
    complexity: 2,
  })
  async completedAt(@Root() p: ProgressData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.completion.load(`${p.courseId}|${p.studentId}`)).completedAt;
  }
}

@Resolver(() => Course)
export class CourseGradebookResolver {
  constructor(private readonly service: QuizService) {}

  @FieldResolver(() => GradebookConnection, {
    nullable: true,
    description: "One row per active enrollment: the course's instructor and admins only.",
    complexity: (args) => connectionComplexity(args) + 5,
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['COURSE_INSTRUCTOR'] }))
  gradebook(@Root() course: CourseRow, @Args(() => ForwardPageArgs) args: ForwardPageArgs, @Ctx() ctx: GraphQLContext) {
    return this.service.gradebook(ctx, course.id, args);
  }
}

@Resolver(() => GradebookRow)
export class GradebookRowResolver {
  constructor(
    private readonly service: QuizService,
    private readonly progressService: ProgressService,
  ) {}

  @FieldResolver(() => EnrollmentProgress, { complexity: 3 })
  progress(@Root() row: GradebookRowData, @Ctx() ctx: GraphQLContext) {
    return this.progressService.progressOf(ctx, row.enrollment);
  }

  @FieldResolver(() => [Float], { nullable: 'items', complexity: 3 })
  quizBestPercents(@Root() row: GradebookRowData, @Ctx() ctx: GraphQLContext) {
    return this.service.bestPercents(ctx, row.enrollment);
  }
}

@Resolver(() => CourseStats)
export class CourseQuizStatsResolver {
  @FieldResolver(() => Float, {
    nullable: true,
    description: "Mean best percent over submitted attempts of the course's quizzes; null when none.",
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  async averageQuizPercent(@Root() stats: CourseStatsData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.statsByCourse.load(stats.courseId)).averageQuizPercent;
  }

  @FieldResolver(() => Int)
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  async certificatesIssued(@Root() stats: CourseStatsData, @Ctx() ctx: GraphQLContext) {
    return (await ctx.loaders.quizzes.statsByCourse.load(stats.courseId)).certificatesIssued;
  }
}
