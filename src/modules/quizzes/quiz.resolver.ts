import {
  Arg,
  Args,
  Ctx,
  Directive,
  FieldResolver,
  Float,
  ID,
  Mutation,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { AttemptRow, QuizRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { auth } from '../../auth/auth.directive.js';
import { Lesson } from '../lessons/index.js';
import { User, type UserService } from '../users/index.js';
import type { QuizCommands } from './quiz.commands.js';
import { CreateQuizInput, SaveAnswersInput, UpdateQuizInput } from './quiz.inputs.js';
import type { QuizService } from './quiz.service.js';
import { Question, QuestionResult, Quiz, QuizAttempt, QuizAttemptConnection } from './quiz.type.js';

@Resolver(() => Quiz)
export class QuizResolver {
  constructor(
    private readonly service: QuizService,
    private readonly commands: QuizCommands,
  ) {}

  @Mutation(() => Quiz, { description: "The course's instructor and admins, here and for updateQuiz and deleteQuiz." })
  createQuiz(@Arg('input', () => CreateQuizInput) input: CreateQuizInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.create(ctx, input);
  }

  @Mutation(() => Quiz)
  updateQuiz(@Arg('input', () => UpdateQuizInput) input: UpdateQuizInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.update(ctx, input);
  }

  @Mutation(() => ID, { description: 'Deletes its attempts too; CONFLICT once a certificate counted it.' })
  deleteQuiz(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @FieldResolver(() => ID)
  id(@Root() quiz: QuizRow) {
    return toGlobalId('Quiz', quiz.id);
  }

  @FieldResolver(() => Lesson)
  lesson(@Root() quiz: QuizRow, @Ctx() ctx: GraphQLContext) {
    return this.service.lessonOf(ctx, quiz);
  }

  @FieldResolver(() => [Question], {
    nullable: true,
    description:
      "The questions in order: for the course's instructor and admins, and for actively enrolled students (without answers, per the rules above); FORBIDDEN for anyone else.",
    complexity: 20,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  questions(@Root() quiz: QuizRow, @Ctx() ctx: GraphQLContext) {
    return this.service.questions(ctx, quiz);
  }

  @FieldResolver(() => [QuizAttempt], { description: "The viewer's own attempts, newest first.", complexity: 5 })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerAttempts(@Root() quiz: QuizRow, @Ctx() ctx: GraphQLContext) {
    return this.service.viewerAttempts(ctx, quiz);
  }

  @FieldResolver(() => Float, {
    nullable: true,
    description: "The viewer's best score percent over submitted and expired attempts; null when none.",
    complexity: 2,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  viewerBestPercent(@Root() quiz: QuizRow, @Ctx() ctx: GraphQLContext) {
    return this.service.viewerBestPercent(ctx, quiz);
  }

  @FieldResolver(() => QuizAttemptConnection, {
    nullable: true,
    description: "Every student's attempts: the course's instructor and admins only.",
    complexity: connectionComplexity,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  attempts(@Root() quiz: QuizRow, @Args(() => ForwardPageArgs) args: ForwardPageArgs, @Ctx() ctx: GraphQLContext) {
    return this.service.attempts(ctx, quiz, args);
  }
}

interface GradedArgs {
  courseId: string;
}

@Resolver(() => QuizAttempt)
export class QuizAttemptResolver {
  constructor(
    private readonly service: QuizService,
    private readonly commands: QuizCommands,
    private readonly users: UserService,
  ) {}

  @Mutation(() => QuizAttempt, {
    description:
      "Actively enrolled students. Returns the viewer's attempt IN_PROGRESS if there is one; otherwise starts the next (CONFLICT when maxAttempts are used up).",
  })
  startQuizAttempt(@Arg('quizId', () => ID) quizId: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.start(ctx, quizId);
  }

  @Mutation(() => QuizAttempt, {
    description: "Saves answers of the viewer's attempt in progress (replacing earlier ones per question).",
  })
  saveQuizAnswers(@Arg('input', () => SaveAnswersInput) input: SaveAnswersInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.save(ctx, input);
  }

  @Mutation(() => QuizAttempt, {
    description:
      "Grades the viewer's attempt with its saved answers plus these; idempotent: submitting a graded attempt again returns it unchanged.",
  })
  submitQuizAttempt(@Arg('input', () => SaveAnswersInput) input: SaveAnswersInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.submit(ctx, input);
  }

  @Subscription(() => QuizAttempt, {
    description:
      "The course's instructor and admins: every submitted or expired attempt in the course, live. Re-authorized for every message.",
    complexity: 10,
    subscribe: ({ args, context }: SubscribeResolverData<unknown, GradedArgs, GraphQLContext>) => {
      if (!context.live)
        throw new AppError(
          'BAD_USER_INPUT',
          'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql',
        );
      return context.live.quizGraded.subscribe(context, args.courseId);
    },
  })
  @Directive(auth({}))
  quizAttemptGraded(@Root() attempt: AttemptRow, @Arg('courseId', () => ID) _courseId: string): AttemptRow {
    return attempt;
  }

  @FieldResolver(() => ID)
  id(@Root() attempt: AttemptRow) {
    return toGlobalId('QuizAttempt', attempt.id);
  }

  @FieldResolver(() => Quiz)
  quiz(@Root() attempt: AttemptRow, @Ctx() ctx: GraphQLContext) {
    return this.service.quizOf(ctx, attempt);
  }

  @FieldResolver(() => User)
  student(@Root() attempt: AttemptRow, @Ctx() ctx: GraphQLContext) {
    return this.users.related(ctx, attempt.studentId);
  }

  @FieldResolver(() => [QuestionResult], {
    nullable: true,
    description: 'Per question, after grading; null while IN_PROGRESS.',
    complexity: 20,
  })
  @Directive(cacheControl({ scope: 'PRIVATE' }))
  results(@Root() attempt: AttemptRow, @Ctx() ctx: GraphQLContext) {
    return this.service.results(ctx, attempt);
  }
}

@Resolver(() => Lesson)
export class LessonQuizzesResolver {
  constructor(private readonly service: QuizService) {}

  @FieldResolver(() => [Quiz], { description: "The lesson's quizzes, in creation order.", complexity: 5 })
  quizzes(@Root() lesson: Parameters<QuizService['ofLesson']>[1], @Ctx() ctx: GraphQLContext) {
    return this.service.ofLesson(ctx, lesson);
  }
}
