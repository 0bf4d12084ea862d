import { Field, Float, ID, InputType, Int, registerEnumType } from '../../graphql/type-graphql.js';
import { QUESTION_KINDS, type QuestionKind as QuestionKindValue } from './quiz.table.js';

export const QuestionKind = Object.fromEntries(QUESTION_KINDS.map((k) => [k, k])) as {
  [K in QuestionKindValue]: K;
};
registerEnumType(QuestionKind, {
  name: 'QuestionKind',
  valuesConfig: {
    SINGLE_CHOICE: { description: 'Exactly one choice is correct.' },
    MULTIPLE_CHOICE: { description: 'One or more choices are correct; all and only those must be chosen.' },
    SHORT_TEXT: {
      description: 'Free text, compared with the accepted answers after trimming, case-folding and collapsing spaces.',
    },
    NUMERIC: { description: "A number, correct within the question's tolerance." },
  },
});

@InputType('ChoiceInput')
export class ChoiceInput {
  @Field(() => String, { description: '1 to 500 characters.' })
  text!: string;

  @Field(() => Boolean)
  correct!: boolean;
}

@InputType('QuestionInput')
export class QuestionInput {
  @Field(() => QuestionKind)
  kind!: QuestionKindValue;

  @Field(() => String, { description: '1 to 5,000 characters.' })
  prompt!: string;

  @Field(() => Int, { nullable: true, description: '1 to 100 (default 1).' })
  points?: number | null;

  @Field(() => [ChoiceInput], { nullable: true, description: 'SINGLE_CHOICE and MULTIPLE_CHOICE: 2 to 10.' })
  choices?: ChoiceInput[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'SHORT_TEXT: 1 to 20 accepted answers (each up to 1,000 characters); NUMERIC: exactly one number.',
  })
  acceptedAnswers?: string[] | null;

  @Field(() => Float, {
    nullable: true,
    description: 'NUMERIC: the allowed absolute difference, 0 or more (default 0).',
  })
  tolerance?: number | null;
}

@InputType('CreateQuizInput')
export class CreateQuizInput {
  @Field(() => ID)
  lessonId!: string;

  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => Int, { nullable: true, description: '0 to 100 (default 70).' })
  passPercent?: number | null;

  @Field(() => Int, { nullable: true, description: '1 to 100; omitted: unlimited.' })
  maxAttempts?: number | null;

  @Field(() => Int, { nullable: true, description: '30 to 86,400; omitted: no time limit.' })
  timeLimitSeconds?: number | null;

  @Field(() => Boolean, { nullable: true, description: 'Default false.' })
  required?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Default false.' })
  revealAnswers?: boolean | null;

  @Field(() => [QuestionInput], { description: '1 to 100 questions.' })
  questions!: QuestionInput[];

  @Field(() => String, {
    nullable: true,
    description:
      'Optional, 1 to 200 characters, unique per client request: a retry with the same id within a day returns the quiz the first attempt created instead of creating another (retry with it after a 503 or a lost answer).',
  })
  clientMutationId?: string | null;
}

@InputType('UpdateQuizInput', {
  description: 'Omitted fields are left as they are; maxAttempts and timeLimitSeconds take null for none.',
})
export class UpdateQuizInput {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  title?: string | null;

  @Field(() => Int, { nullable: true })
  passPercent?: number | null;

  @Field(() => Int, { nullable: true })
  maxAttempts?: number | null;

  @Field(() => Int, { nullable: true })
  timeLimitSeconds?: number | null;

  @Field(() => Boolean, { nullable: true })
  required?: boolean | null;

  @Field(() => Boolean, { nullable: true })
  revealAnswers?: boolean | null;

  @Field(() => [QuestionInput], {
    nullable: true,
    description: 'Replaces every question: CONFLICT once the quiz has a submitted attempt.',
  })
  questions?: QuestionInput[] | null;
}

@InputType('AnswerInput')
export class AnswerInput {
  @Field(() => ID)
  questionId!: string;

  @Field(() => [ID], { nullable: true, description: 'SINGLE_CHOICE and MULTIPLE_CHOICE.' })
  choiceIds?: string[] | null;

  @Field(() => String, { nullable: true, description: 'SHORT_TEXT, up to 1,000 characters.' })
  text?: string | null;

  @Field(() => Float, { nullable: true, description: 'NUMERIC.' })
  number?: number | null;
}

@InputType('SaveAnswersInput')
export class SaveAnswersInput {
  @Field(() => ID)
  attemptId!: string;

  @Field(() => [AnswerInput], { description: 'At most one per question of the quiz.' })
  answers!: AnswerInput[];
}
