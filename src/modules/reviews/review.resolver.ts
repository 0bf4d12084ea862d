import { Arg, Args, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow, ReviewRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { Course, type CourseService } from '../courses/index.js';
import { User, type UserService } from '../users/index.js';
import type { ReviewCommands, ReviewService } from './review.service.js';
import { RatingSummary, Review, ReviewConnection, ReviewOrder, WriteReviewInput } from './review.type.js';

@Resolver(() => Review)
export class ReviewResolver {
  constructor(
    private readonly commands: ReviewCommands,
    private readonly coursesService: CourseService,
    private readonly usersService: UserService,
  ) {}

  @Mutation(() => Review, {
    description:
      'Students who are or were enrolled in the course (any enrollment status). One review per student and course: writing again replaces rating and body.',
  })
  @Directive(auth({ requires: ['STUDENT'] }))
  writeReview(@Arg('input', () => WriteReviewInput) input: WriteReviewInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.write(ctx, input);
  }

  @Mutation(() => ID, { description: 'Its author and admins.' })
  deleteReview(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @Mutation(() => Review, { description: "The course's instructor: sets or replaces the public reply." })
  replyToReview(
    @Arg('id', () => ID) id: string,
    @Arg('reply', () => String) reply: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.commands.reply(ctx, id, reply);
  }

  @Mutation(() => Review, { description: 'Admins only.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  setReviewHidden(
    @Arg('id', () => ID) id: string,
    @Arg('hidden', () => Boolean) hidden: boolean,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.commands.setHidden(ctx, id, hidden);
  }

  @FieldResolver(() => ID)
  id(@Root() review: ReviewRow) {
    return toGlobalId('Review', review.id);
  }

  @FieldResolver(() => Course)
  course(@Root() review: ReviewRow, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.related(ctx, review.courseId);
  }

  @FieldResolver(() => User, {
    description: "Its author (display name visible to all; the author's other fields follow User's own rules).",
  })
  author(@Root() review: ReviewRow, @Ctx() ctx: GraphQLContext) {
    return this.usersService.related(ctx, review.authorId);
  }
}

/** A course's reviews and rating: here, not in courses/, because reviews depend on courses. */
@Resolver(() => Course)
export class CourseReviewsResolver {
  constructor(private readonly reviewsService: ReviewService) {}

  @FieldResolver(() => RatingSummary)
  ratingSummary(@Root() course: CourseRow) {
    return this.reviewsService.ratingSummary(course);
  }

  @FieldResolver(() => ReviewConnection, {
    description: 'Visible reviews (hidden ones only for their author and admins), newest first by default.',
    complexity: connectionComplexity,
  })
  reviews(
    @Root() course: CourseRow,
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Arg('orderBy', () => ReviewOrder, { nullable: true }) orderBy: ReviewOrder | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.reviewsService.ofCourse(ctx, course.id, args, orderBy);
  }

  @FieldResolver(() => Review, { nullable: true, description: "The signed-in viewer's own review, if any." })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerReview(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.reviewsService.viewerReview(ctx, course.id);
  }
}
