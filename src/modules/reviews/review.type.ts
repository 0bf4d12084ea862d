import {
  Directive,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { connectionOf, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import { SortDirection } from '../courses/index.js';

export const ReviewOrderField = { CREATED_AT: 'CREATED_AT', RATING: 'RATING' } as const;
export type ReviewOrderField = keyof typeof ReviewOrderField;
registerEnumType(ReviewOrderField, { name: 'ReviewOrderField' });

@ObjectType('Review', { implements: Node, description: "A student's review of a course: one per student and course." })
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class Review extends Node {
  @Field(() => Int, { description: '1 to 5.' })
  rating!: number;

  @Field(() => String, { nullable: true, description: 'Up to 5,000 characters; null for a rating without text.' })
  body!: string | null;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: "The course instructor's public answer, up to 2,000 characters.",
  })
  instructorReply!: string | null;

  @Field(() => DateTime, { nullable: true })
  instructorRepliedAt!: Date | null;

  @Field(() => Boolean, {
    description: 'Hidden by an admin: then only its author and admins see it, and it counts in no summary.',
  })
  hidden!: boolean;
}

export const ReviewConnection = connectionOf('Review', Review);

@InputType('ReviewOrder')
export class ReviewOrder {
  @Field(() => ReviewOrderField)
  field!: ReviewOrderField;

  @Field(() => SortDirection)
  direction!: keyof typeof SortDirection;
}

@ObjectType('RatingSummary', { description: 'Ratings of the visible reviews of a course.' })
// Part of its course's row (kept in the review's transaction), cached and invalidated with it.
@Directive(cacheControl({ inheritMaxAge: true }))
export class RatingSummary {
  @Field(() => Float, { nullable: true, description: 'null when there are no ratings.' })
  average!: number | null;

  @Field(() => Int)
  count!: number;

  @Field(() => [Int], { description: 'Five counts: how many ratings of 1, 2, 3, 4 and 5.' })
  histogram!: number[];
}

@InputType('WriteReviewInput')
export class WriteReviewInput {
  @Field(() => ID)
  courseId!: string;

  @Field(() => Int, { description: '1 to 5.' })
  rating!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Up to 5,000 characters; empty or omitted: a rating without text.',
  })
  body?: string | null;
}
