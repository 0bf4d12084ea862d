import type { NewCourseRow, NewLessonRow } from '../db/schema.js';
import type { quizQuestions, quizzes } from '../db/schema.js';

type QuizInsert = typeof quizzes.$inferInsert;
type QuestionInsert = typeof quizQuestions.$inferInsert;

/**
 * The demo's assessment: the first published course gets two quizzes on its first two
 * lessons, one required for completion (with a time limit and answers revealed after
 * submission), one optional practice quiz. Ids derive from names, so seeding twice adds nothing.
 */
export function buildDemoQuizzes(
  courseRows: NewCourseRow[],
  lessonRows: NewLessonRow[],
  demoId: (name: string) => string,
): { quizzes: QuizInsert[]; questions: QuestionInsert[] } {
  const course = courseRows.find((c) => c.status === 'PUBLISHED')!;
  const [first, second] = lessonRows.filter((l) => l.courseId === course.id);
  const choice = (key: string, text: string, correct: boolean) => ({ id: demoId(`choice:${key}`), text, correct });
  const quizzes: QuizInsert[] = [
    {
      id: demoId('quiz:required'),
      courseId: course.id!,
      lessonId: first!.id!,
      title: 'Checkpoint: the essentials',
      passPercent: 70,
      maxAttempts: 3,
      timeLimitSeconds: 900,
      required: true,
      revealAnswers: true,
      questionCount: 4,
      totalPoints: 5,
    },
    {
      id: demoId('quiz:practice'),
      courseId: course.id!,
      lessonId: second!.id!,
      title: 'Practice round',
      passPercent: 50,
      required: false,
      revealAnswers: false,
      questionCount: 2,
      totalPoints: 2,
    },
  ];
  const q = (quiz: string, position: number, rest: Omit<QuestionInsert, 'quizId' | 'position'>): QuestionInsert => ({
    id: demoId(`question:${quiz}:${position}`),
    quizId: demoId(`quiz:${quiz}`),
    position,
    ...rest,
  });
  const questions: QuestionInsert[] = [
    q('required', 0, {
      kind: 'SINGLE_CHOICE',
      prompt: 'Which HTTP method does a GraphQL mutation usually travel over?',
      choices: [choice('r0a', 'GET', false), choice('r0b', 'POST', true), choice('r0c', 'PATCH', false)],
    }),
    q('required', 1, {
      kind: 'MULTIPLE_CHOICE',
      prompt: 'Which of these are GraphQL operation types?',
      points: 2,
      choices: [
        choice('r1a', 'query', true),
        choice('r1b', 'mutation', true),
        choice('r1c', 'subscription', true),
        choice('r1d', 'procedure', false),
      ],
    }),
    q('required', 2, {
      kind: 'SHORT_TEXT',
      prompt: 'What does the S in SQL stand for?',
      acceptedAnswers: ['Structured'],
    }),
    q('required', 3, { kind: 'NUMERIC', prompt: 'How many bits are in a byte?', acceptedAnswers: ['8'], tolerance: 0 }),
    q('practice', 0, {
      kind: 'SINGLE_CHOICE',
      prompt: 'Is JSON a subset of JavaScript object syntax?',
      choices: [choice('p0a', 'Yes, nearly', true), choice('p0b', 'No, unrelated', false)],
    }),
    q('practice', 1, {
      kind: 'NUMERIC',
      prompt: 'Roughly, what is 22 / 7?',
      acceptedAnswers: ['3.14'],
      tolerance: 0.01,
    }),
  ];
  return { quizzes, questions };
}
