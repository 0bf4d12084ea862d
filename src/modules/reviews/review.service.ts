import { z } from 'zod';
import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { CourseRow, ReviewRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import { intBetween, parseInput, text, trimmed } from '../../graphql/validation.js';
import { appendToOutbox } from '../../outbox/outbox.js';
import { canDeleteReview, canReplyToReview, reviewRefusal } from './review.policy.js';
import { deleteReview, reviewSort, updateReview, upsertReview } from './review.repository.js';
import type { ReviewOrder, WriteReviewInput } from './review.type.js';

const REVIEW_BODY_MAX = 5_000;
const REPLY_MAX = 2_000;

const writeReviewSchema = z.object({
  courseId: z.string(),
  rating: intBetween(1, 5),
  // Blank text is a rating without text.
  body: text(REVIEW_BODY_MAX)
    .nullish()
    .transform((b) => (b?.trim() ? b.trim() : null)),
});
const replySchema = z.object({ reply: trimmed(1, REPLY_MAX) });

export interface RatingSummaryData {
  average: number | null;
  count: number;
  histogram: number[];
}

/** Reads of reviews, batched through the request's loaders. */
export class ReviewService {
  async findVisible(scope: RequestScope, id: string): Promise<ReviewRow | null> {
    const uuid = uuidOf('Review', id);
    return uuid ? scope.loaders.reviews.visibleById.load(uuid) : null;
  }

  /** `Course.reviews`: visible reviews (hidden ones only for their author and admins), newest first by default. */
  async ofCourse(
    scope: RequestScope,
    courseId: string,
    args: PageArgs,
    orderBy: ReviewOrder | null | undefined,
  ): Promise<Connection<ReviewRow>> {
    const spec = reviewSort(orderBy?.field, orderBy?.direction);
    const page = parsePage(spec, args);
    const rows = await scope.loaders.reviews.pageByCourse.load({ parentId: courseId, params: { spec, page } });
    return toConnection(spec, page, rows, () => scope.loaders.reviews.countByCourse.load(courseId));
  }

  viewerReview(scope: RequestScope, courseId: string): Promise<ReviewRow | null> {
    return scope.loaders.reviews.viewerByCourse.load(courseId);
  }

  /** From the course row itself: the summary is kept there in each review's transaction. */
  ratingSummary(course: CourseRow): RatingSummaryData {
    const { ratingCount: count, ratingSum: sum } = course;
    return { average: count ? Math.round((sum / count) * 100) / 100 : null, count, histogram: course.ratingHistogram };
  }
}

/** Writes to reviews. Each changes its course (summary, orders by rating): the tags say so. */
export class ReviewCommands {
  constructor(private readonly db: Db) {}

  async write(scope: RequestScope, input: WriteReviewInput): Promise<ReviewRow> {
    requireSignedIn(scope.viewer);
    const v = parseInput(writeReviewSchema, input);
    const uuid = uuidOf('Course', v.courseId);
    const course = uuid ? await scope.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    const refusal = reviewRefusal(scope.viewer, await scope.loaders.enrollments.viewerByCourse.load(course.id));
    if (refusal) throw refusal;
    const review = await transaction(this.db, scope, async (tx) => {
      const row = await upsertReview(tx, {
        courseId: course.id,
        authorId: scope.viewer.userId!,
        rating: v.rating,
        body: v.body,
      });
      await appendToOutbox(tx, {
        type: 'review.posted',
        reviewId: row.id,
        courseId: course.id,
        instructorId: course.instructorId,
        rating: row.rating,
        occurredAt: row.updatedAt.toISOString(),
      });
      return row;
    });
    this.changed(scope, review);
    return review;
  }

  async delete(scope: RequestScope, id: string): Promise<string> {
    const review = await this.visible(scope, id);
    if (!canDeleteReview(scope.viewer, review)) throw AppError.forbidden('Only its author and admins delete a review');
    if (!(await transaction(this.db, scope, (tx) => deleteReview(tx, review.id)))) throw AppError.notFound('Review');
    this.changed(scope, review);
    return id;
  }

  async reply(scope: RequestScope, id: string, reply: string): Promise<ReviewRow> {
    const review = await this.visible(scope, id);
    const v = parseInput(replySchema, { reply });
    const course = await scope.loaders.courses.rowForPolicy.load(review.courseId);
    if (!course || !canReplyToReview(scope.viewer, course))
      throw AppError.forbidden("Only the course's instructor replies to its reviews");
    const changes = { instructorReply: v.reply, instructorRepliedAt: new Date() };
    const row = await transaction(this.db, scope, (tx) => updateReview(tx, review.id, changes));
    if (!row) throw AppError.notFound('Review');
    this.changed(scope, row);
    return row;
  }

  async setHidden(scope: RequestScope, id: string, hidden: boolean): Promise<ReviewRow> {
    requireRole(scope.viewer, 'ADMIN');
    const review = await this.visible(scope, id);
    const row =
      review.hidden === hidden
        ? review
        : await transaction(this.db, scope, (tx) => updateReview(tx, review.id, { hidden }));
    if (!row) throw AppError.notFound('Review');
    this.changed(scope, row);
    return row;
  }

  private async visible(scope: RequestScope, id: string): Promise<ReviewRow> {
    requireSignedIn(scope.viewer);
    const uuid = uuidOf('Review', id);
    const review = uuid ? await scope.loaders.reviews.visibleById.load(uuid) : null;
    if (!review) throw AppError.notFound('Review');
    return review;
  }

  /** The review, its course (summary, lists of its reviews) and the course lists (RATING, minRating). */
  private changed(scope: RequestScope, review: ReviewRow): void {
    touched(scope, `Review:${review.id}`, `Course:${review.courseId}`, 'Course:list', 'Review:list');
  }
}
