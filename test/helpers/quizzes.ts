import { inflateSync } from 'node:zlib';
import { PDFArray, PDFDocument, PDFName, PDFRawStream, decodePDFRawStream } from 'pdf-lib';
import type { TestApp } from './test-app.js';
import { gid } from './factories.js';

export const CREATE_QUIZ = `mutation($input: CreateQuizInput!) { createQuiz(input: $input) {
  id title questionCount totalPoints required revealAnswers maxAttempts timeLimitSeconds
  questions { id kind choices { id text correct } acceptedAnswers tolerance } } }`;
export const START = `mutation($q: ID!) { startQuizAttempt(quizId: $q) { id number status deadline } }`;
export const SAVE = `mutation($input: SaveAnswersInput!) { saveQuizAnswers(input: $input) { id status scorePoints results { correct } } }`;
export const SUBMIT = `mutation($input: SaveAnswersInput!) { submitQuizAttempt(input: $input) {
  id status submittedAt scorePoints scorePercent passed
  results { question { id } given correct pointsAwarded correctAnswer } } }`;

/** A quiz of four questions, one of each kind, 1 point each. */
export function fourKinds(overrides: Record<string, unknown> = {}) {
  return {
    title: 'Checkpoint',
    passPercent: 75,
    questions: [
      {
        kind: 'SINGLE_CHOICE',
        prompt: 'Capital of France?',
        choices: [
          { text: 'Paris', correct: true },
          { text: 'Lyon', correct: false },
          { text: 'Nice', correct: false },
        ],
      },
      {
        kind: 'MULTIPLE_CHOICE',
        prompt: 'Primes?',
        choices: [
          { text: 'Two', correct: true },
          { text: 'Three', correct: true },
          { text: 'Four', correct: false },
        ],
      },
      { kind: 'SHORT_TEXT', prompt: 'Largest ocean?', acceptedAnswers: ['Pacific Ocean', 'Pacific'] },
      { kind: 'NUMERIC', prompt: 'Pi to two places?', acceptedAnswers: ['3.14'], tolerance: 0.005 },
    ],
    ...overrides,
  };
}

/** Creates a quiz on a lesson as the given instructor; returns it as the instructor sees it (answers included). */
export async function createQuiz(
  t: Pick<TestApp, 'gql'>,
  token: string,
  lessonId: string,
  input: Record<string, unknown>,
) {
  const res = await t.gql(CREATE_QUIZ, { input: { lessonId: gid('Lesson', lessonId), ...input } }, { token });
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.createQuiz as {
    id: string;
    questions: Array<{
      id: string;
      kind: string;
      choices: Array<{ id: string; text: string; correct: boolean }>;
      acceptedAnswers: string[] | null;
    }>;
  };
}

/** Every answer right, for a quiz as `createQuiz` returned it. */
export function rightAnswers(quiz: Awaited<ReturnType<typeof createQuiz>>) {
  return quiz.questions.map((q) => {
    if (q.kind === 'SINGLE_CHOICE' || q.kind === 'MULTIPLE_CHOICE')
      return { questionId: q.id, choiceIds: q.choices.filter((c) => c.correct).map((c) => c.id) };
    if (q.kind === 'SHORT_TEXT') return { questionId: q.id, text: q.acceptedAnswers![0] };
    return { questionId: q.id, number: Number(q.acceptedAnswers![0]) };
  });
}

/**
 * The text drawn on every page of a PDF, read back with pdf-lib: content streams decoded
 * (Flate), then the hex and literal strings of the text operators decoded as WinAnsi.
 */
export async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await PDFDocument.load(bytes);
  const parts: string[] = [];
  for (const page of doc.getPages()) {
    const contents = page.node.get(PDFName.of('Contents'));
    const refs = contents instanceof PDFArray ? contents.asArray() : [contents];
    for (const ref of refs) {
      const stream = doc.context.lookup(ref);
      if (!(stream instanceof PDFRawStream)) continue;
      let raw: Uint8Array;
      try {
        raw = decodePDFRawStream(stream).decode();
      } catch {
        raw = inflateSync(stream.contents);
      }
      const text = Buffer.from(raw).toString('latin1');
      for (const m of text.matchAll(/<([0-9A-Fa-f]*)>\s*Tj|\(((?:\\.|[^\\)])*)\)\s*Tj/g))
        parts.push(m[1] !== undefined ? Buffer.from(m[1], 'hex').toString('latin1') : m[2]!);
    }
  }
  return parts.join('\n');
}
