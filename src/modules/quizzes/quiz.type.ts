import { Field, Float, ID, Int, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { connectionOf, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import { QuestionKind } from './quiz.inputs.js';
import { ATTEMPT_STATUSES, type AttemptStatus, type QuestionKind as QuestionKindValue } from './quiz.table.js';

// No cache hints on these types: a response that contains a quiz, an attempt or a question is
// never stored in the response cache (maxAge 0), so no cache entry of any scope holds answers.

const QuizAttemptStatus = Object.fromEntries(ATTEMPT_STATUSES.map((s) => [s, s])) as {
  [K in AttemptStatus]: K;
};
registerEnumType(QuizAttemptStatus, {
  name: 'QuizAttemptStatus',
  valuesConfig: {
    EXPIRED: { description: 'The deadline passed before submission; graded with what was saved.' },
  },
});

/** A choice as one viewer may see it (`correct` null where the answer rules hide it). */
@ObjectType('Choice')
export class Choice {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  text!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Instructors of the course and admins; the student only as the answer rules allow, else null.',
  })
  correct!: boolean | null;
}

/** A question as one viewer may see it: built by the quiz service, never a raw row. */
@ObjectType('Question')
export class Question {
  @Field(() => ID)
  id!: string;

  @Field(() => QuestionKind)
  kind!: QuestionKindValue;

  @Field(() => String, { description: '1 to 5,000 characters.' })
  prompt!: string;

  @Field(() => Int, { description: '1 to 100.' })
  points!: number;

  @Field(() => Int, { description: 'The 0-based place in the quiz.' })
  position!: number;

  @Field(() => [Choice], {
    description:
      'SINGLE_CHOICE and MULTIPLE_CHOICE: 2 to 10 choices; empty otherwise. Students see them in an order of their own per attempt.',
  })
  choices!: Choice[];

  @Field(() => [String], {
    nullable: true,
    description: 'SHORT_TEXT: the accepted answers; NUMERIC: the number as text. Same visibility as Choice.correct.',
  })
  acceptedAnswers!: string[] | null;

  @Field(() => Float, { nullable: true, description: 'NUMERIC: the allowed absolute difference.' })
  tolerance!: number | null;
}

@ObjectType('Quiz', { implements: Node })
export class Quiz extends Node {
  @Field(() => String)
  title!: string;

  @Field(() => Int, { description: '0 to 100: the score percent needed to pass.' })
  passPercent!: number;

  @Field(() => Int, { nullable: true, description: 'null: unlimited.' })
  maxAttempts!: number | null;

  @Field(() => Int, { nullable: true, description: 'null: no time limit; else 30 to 86,400.' })
  timeLimitSeconds!: number | null;

  @Field(() => Boolean, { description: 'Whether passing it is needed to complete the course.' })
  required!: boolean;

  @Field(() => Boolean, { description: 'Whether a student sees the correct answers after submitting.' })
  revealAnswers!: boolean;

  @Field(() => Int)
  questionCount!: number;

  @Field(() => Int)
  totalPoints!: number;
}

@ObjectType('QuestionResult')
export class QuestionResult {
  @Field(() => Question)
  question!: Question;

  @Field(() => String, {
    nullable: true,
    description: 'What the student answered, as text (choice ids joined, or the text or number given).',
  })
  given!: string | null;

  @Field(() => Boolean)
  correct!: boolean;

  @Field(() => Int)
  pointsAwarded!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Only when the quiz has revealAnswers (or for instructors and admins).',
  })
  correctAnswer!: string | null;
}

@ObjectType('QuizAttempt', { implements: Node })
export class QuizAttempt extends Node {
  @Field(() => Int, { description: "1 for the student's first attempt at this quiz." })
  number!: number;

  @Field(() => QuizAttemptStatus)
  status!: AttemptStatus;

  @Field(() => DateTime)
  startedAt!: Date;

  @Field(() => DateTime, {
    nullable: true,
    description: 'startedAt + timeLimitSeconds (by the database clock); null without a limit.',
  })
  deadline!: Date | null;

  @Field(() => DateTime, { nullable: true })
  submittedAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'null while IN_PROGRESS.' })
  scorePoints!: number | null;

  @Field(() => Float, { nullable: true })
  scorePercent!: number | null;

  @Field(() => Boolean, { nullable: true })
  passed!: boolean | null;
}

export const QuizAttemptConnection = connectionOf('QuizAttempt', QuizAttempt);
