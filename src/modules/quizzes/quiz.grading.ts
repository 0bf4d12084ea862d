import { createHash } from 'node:crypto';
import { normalizeText } from './quiz.validation.js';
import type { QuestionRow, QuizRow, StoredAnswer, StoredChoice, StoredResult } from './quiz.table.js';

export interface Grade {
  scorePoints: number;
  scorePercent: number;
  passed: boolean;
  results: StoredResult[];
}

/** Tolerance for binary floating point on top of the question's own (0.1 + 0.2 is 0.3). */
const FLOAT_SLACK = 1e-9;

/** Whether one saved answer is correct, by the contract's rules. */
function isCorrect(question: QuestionRow, answer: StoredAnswer | undefined): boolean {
  if (!answer) return false;
  switch (question.kind) {
    case 'SINGLE_CHOICE': {
      const ids = answer.choiceIds ?? [];
      return ids.length === 1 && question.choices.some((c) => c.correct && c.id === ids[0]);
    }
    case 'MULTIPLE_CHOICE': {
      // All and only the correct choices.
      const chosen = new Set(answer.choiceIds ?? []);
      const correct = question.choices.filter((c) => c.correct).map((c) => c.id);
      return chosen.size === correct.length && correct.every((id) => chosen.has(id));
    }
    case 'SHORT_TEXT': {
      if (answer.text === undefined) return false;
      const given = normalizeText(answer.text);
      return given.length > 0 && (question.acceptedAnswers ?? []).some((a) => normalizeText(a) === given);
    }
    case 'NUMERIC': {
      const expected = Number(question.acceptedAnswers?.[0]);
      if (answer.number === undefined || !Number.isFinite(expected)) return false;
      return Math.abs(answer.number - expected) <= (question.tolerance ?? 0) + FLOAT_SLACK;
    }
  }
}

/** What the student answered, as text: choice ids joined with commas, or the text or number. */
function givenText(question: QuestionRow, answer: StoredAnswer | undefined): string | null {
  if (!answer) return null;
  if (question.kind === 'SINGLE_CHOICE' || question.kind === 'MULTIPLE_CHOICE')
    return answer.choiceIds?.length ? [...answer.choiceIds].sort().join(',') : null;
  if (question.kind === 'SHORT_TEXT') return answer.text ?? null;
  return answer.number === undefined ? null : String(answer.number);
}

/** The correct answer, as text (shown only where the answer rules allow). */
export function correctAnswerText(question: QuestionRow): string {
  switch (question.kind) {
    case 'SINGLE_CHOICE':
    case 'MULTIPLE_CHOICE':
      return question.choices
        .filter((c) => c.correct)
        .map((c) => c.id)
        .sort()
        .join(',');
    case 'SHORT_TEXT':
      return (question.acceptedAnswers ?? []).join(' | ');
    case 'NUMERIC': {
      const n = question.acceptedAnswers?.[0] ?? '';
      return question.tolerance ? `${n} ± ${question.tolerance}` : n;
    }
  }
}

/** Grades saved answers against the quiz's questions (in order). */
export function grade(
  quiz: Pick<QuizRow, 'passPercent'>,
  questions: QuestionRow[],
  answers: Record<string, StoredAnswer>,
): Grade {
  let scorePoints = 0;
  let total = 0;
  const results = questions.map((q) => {
    const answer = answers[q.id];
    const correct = isCorrect(q, answer);
    total += q.points;
    if (correct) scorePoints += q.points;
    return { questionId: q.id, given: givenText(q, answer), correct, points: correct ? q.points : 0 };
  });
  const scorePercent = total === 0 ? 0 : Math.round((10_000 * scorePoints) / total) / 100;
  return { scorePoints, scorePercent, passed: scorePercent >= quiz.passPercent, results };
}

/**
 * The order a student sees a question's choices in: a hash of the seed (their attempt) and
 * each choice's id, so the authored order (often the correct one first) never shows, every
 * attempt gets its own order, and the same attempt always the same one.
 */
export function shuffledChoices(choices: StoredChoice[], seed: string): StoredChoice[] {
  const rank = (c: StoredChoice) => createHash('sha256').update(`${seed}:${c.id}`).digest('hex');
  return choices
    .map((c) => ({ c, r: rank(c) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.c);
}
