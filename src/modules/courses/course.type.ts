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
import type { CourseStatus as CourseStatusValue } from './course.table.js';

export const CourseStatus = { DRAFT: 'DRAFT', PUBLISHED: 'PUBLISHED', ARCHIVED: 'ARCHIVED' } as const;
registerEnumType(CourseStatus, { name: 'CourseStatus' });

export const SortDirection = { ASC: 'ASC', DESC: 'DESC' } as const;
registerEnumType(SortDirection, { name: 'SortDirection' });

export const CourseOrderField = {
  CREATED_AT: 'CREATED_AT',
  TITLE: 'TITLE',
  PRICE: 'PRICE',
  RATING: 'RATING',
  POPULARITY: 'POPULARITY',
} as const;
export type CourseOrderField = keyof typeof CourseOrderField;
registerEnumType(CourseOrderField, {
  name: 'CourseOrderField',
  valuesConfig: {
    RATING: { description: 'Average visible rating, then rating count; unrated courses last in either direction.' },
    POPULARITY: { description: 'Active enrollments.' },
  },
});

@ObjectType('Course', { implements: Node })
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class Course extends Node {
  @Field(() => String)
  slug!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Int)
  priceCents!: number;

  @Field(() => CourseStatus)
  status!: CourseStatusValue;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime)
  updatedAt!: Date;

  @Field(() => DateTime, { nullable: true })
  publishedAt!: Date | null;
}

export const CourseConnection = connectionOf('Course', Course);

@InputType('CourseFilter')
export class CourseFilter {
  @Field(() => String, { nullable: true, description: 'Full-text search over title and description.' })
  search?: string | null;

  @Field(() => ID, { nullable: true })
  instructorId?: string | null;

  @Field(() => CourseStatus, { nullable: true })
  status?: CourseStatusValue | null;

  @Field(() => ID, { nullable: true })
  categoryId?: string | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Courses whose average visible rating is at least this (1 to 5); unrated ones are left out.',
  })
  minRating?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only courses with priceCents 0; false: only paid ones.' })
  free?: boolean | null;
}

@InputType('CourseOrder')
export class CourseOrder {
  @Field(() => CourseOrderField)
  field!: CourseOrderField;

  @Field(() => SortDirection)
  direction!: keyof typeof SortDirection;
}
