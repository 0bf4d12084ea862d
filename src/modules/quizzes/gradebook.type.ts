import { Field, Float, ObjectType } from '../../graphql/type-graphql.js';
import { connectionOf } from '../../graphql/relay.types.js';
import { Enrollment } from '../enrollments/index.js';

@ObjectType('GradebookRow', { description: "One student's standing in a course, for its gradebook." })
export class GradebookRow {
  @Field(() => Enrollment)
  enrollment!: Enrollment;

  @Field(() => [Float], {
    nullable: 'items',
    description: 'Best score percent per quiz of the course, in lesson order; null where not attempted.',
  })
  quizBestPercents!: Array<number | null>;
}

export const GradebookConnection = connectionOf('Gradebook', GradebookRow);
