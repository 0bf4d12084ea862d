import { randomUUID } from 'node:crypto';
import { AppError, type FieldErrors } from '../../errors/app-error.js';
import type { AnswerInput, QuestionInput } from './quiz.inputs.js';
import type { QuestionKind, QuestionRow, StoredAnswer, StoredChoice } from './quiz.table.js';

/** Bounds of the contract (and a few of our own where it names none). */
const QUIZ_LIMITS = {
  titleMax: 200,
  questionsMax: 100,
  promptMax: 5_000,
  pointsMax: 100,
  choicesMin: 2,
  choicesMax: 10,
  choiceTextMax: 500,
  acceptedAnswersMax: 20,
  answerTextMax: 1_000,
  maxAttemptsMax: 100,
  timeLimitMin: 30,
  timeLimitMax: 86_400,
} as const;

/** A question as it will be stored (without its quiz and id). */
export interface QuestionDraft {
  position: number;
  kind: QuestionKind;
  prompt: string;
  points: number;
  choices: StoredChoice[];
  acceptedAnswers: string[] | null;
  tolerance: number | null;
}

export interface QuizSettings {
  title?: string;
  passPercent?: number;
  maxAttempts?: number | null;
  timeLimitSeconds?: number | null;
  required?: boolean;
  revealAnswers?: boolean;
}

const isChoiceKind = (k: QuestionKind) => k === 'SINGLE_CHOICE' || k === 'MULTIPLE_CHOICE';

/**
 * The quiz's own settings. `present` lists the keys the client sent (update leaves the rest);
 * errors name the input field (`input.passPercent`).
 */
export function validateSettings(
  input: {
    title?: string | null;
    passPercent?: number | null;
    maxAttempts?: number | null;
    timeLimitSeconds?: number | null;
    required?: boolean | null;
    revealAnswers?: boolean | null;
  },
  errors: FieldErrors,
  creating: boolean,
): QuizSettings {
  const out: QuizSettings = {};
  if (input.title !== undefined && input.title !== null) {
    const title = input.title.trim();
    if (title.length < 1 || title.length > QUIZ_LIMITS.titleMax)
      errors['input.title'] = `must be 1 to ${QUIZ_LIMITS.titleMax} characters`;
    out.title = title;
  } else if (creating || input.title === null) errors['input.title'] = 'is required';
  if (input.passPercent !== undefined && input.passPercent !== null) {
    if (input.passPercent < 0 || input.passPercent > 100) errors['input.passPercent'] = 'must be 0 to 100';
    out.passPercent = input.passPercent;
  } else if (input.passPercent === null && !creating) errors['input.passPercent'] = 'cannot be null';
  if (input.maxAttempts !== undefined) {
    if (input.maxAttempts !== null && (input.maxAttempts < 1 || input.maxAttempts > QUIZ_LIMITS.maxAttemptsMax))
      errors['input.maxAttempts'] = `must be 1 to ${QUIZ_LIMITS.maxAttemptsMax}, or null for unlimited`;
    out.maxAttempts = input.maxAttempts;
  }
  if (input.timeLimitSeconds !== undefined) {
    const t = input.timeLimitSeconds;
    if (t !== null && (t < QUIZ_LIMITS.timeLimitMin || t > QUIZ_LIMITS.timeLimitMax))
      errors['input.timeLimitSeconds'] =
        `must be ${QUIZ_LIMITS.timeLimitMin} to ${QUIZ_LIMITS.timeLimitMax.toLocaleString('en')}, or null for none`;
    out.timeLimitSeconds = t;
  }
  if (input.required !== undefined && input.required !== null) out.required = input.required;
  if (input.revealAnswers !== undefined && input.revealAnswers !== null) out.revealAnswers = input.revealAnswers;
  return out;
}

/** Validates every question; errors name the path (`input.questions[3].choices`). */
export function validateQuestions(questions: QuestionInput[], errors: FieldErrors): QuestionDraft[] {
  if (questions.length < 1 || questions.length > QUIZ_LIMITS.questionsMax) {
    errors['input.questions'] = `must list 1 to ${QUIZ_LIMITS.questionsMax} questions`;
    return [];
  }
  return questions.map((q, i) => validateQuestion(q, i, errors));
}

function validateQuestion(q: QuestionInput, i: number, errors: FieldErrors): QuestionDraft {
  const at = `input.questions[${i}]`;
  const prompt = q.prompt.trim();
  if (prompt.length < 1 || prompt.length > QUIZ_LIMITS.promptMax)
    errors[`${at}.prompt`] = `must be 1 to ${QUIZ_LIMITS.promptMax.toLocaleString('en')} characters`;
  const points = q.points ?? 1;
  if (points < 1 || points > QUIZ_LIMITS.pointsMax) errors[`${at}.points`] = `must be 1 to ${QUIZ_LIMITS.pointsMax}`;
  const draft: QuestionDraft = {
    position: i,
    kind: q.kind,
    prompt,
    points,
    choices: [],
    acceptedAnswers: null,
    tolerance: null,
  };
  if (isChoiceKind(q.kind)) {
    if (q.acceptedAnswers?.length) errors[`${at}.acceptedAnswers`] = `must be empty for ${q.kind}`;
    if (q.tolerance != null) errors[`${at}.tolerance`] = `must be empty for ${q.kind}`;
    const choices = q.choices ?? [];
    if (choices.length < QUIZ_LIMITS.choicesMin || choices.length > QUIZ_LIMITS.choicesMax) {
      errors[`${at}.choices`] = `must list ${QUIZ_LIMITS.choicesMin} to ${QUIZ_LIMITS.choicesMax} choices`;
      return draft;
    }
    const seen = new Set<string>();
    choices.forEach((c, j) => {
      const text = c.text.trim();
      if (text.length < 1 || text.length > QUIZ_LIMITS.choiceTextMax)
        errors[`${at}.choices[${j}].text`] = `must be 1 to ${QUIZ_LIMITS.choiceTextMax} characters`;
      else if (seen.has(text)) errors[`${at}.choices[${j}].text`] = 'repeats another choice of this question';
      seen.add(text);
    });
    const correct = choices.filter((c) => c.correct).length;
    if (q.kind === 'SINGLE_CHOICE' && correct !== 1)
      errors[`${at}.choices`] = `SINGLE_CHOICE needs exactly one correct choice (${correct} given)`;
    if (q.kind === 'MULTIPLE_CHOICE' && correct < 1)
      errors[`${at}.choices`] = 'MULTIPLE_CHOICE needs at least one correct choice';
    draft.choices = choices.map((c) => ({ id: randomUUID(), text: c.text.trim(), correct: c.correct }));
    return draft;
  }
  if (q.choices?.length) errors[`${at}.choices`] = `must be empty for ${q.kind}`;
  const accepted = (q.acceptedAnswers ?? []).map((a) => a.trim());
  if (q.kind === 'SHORT_TEXT') {
    if (q.tolerance != null) errors[`${at}.tolerance`] = 'must be empty for SHORT_TEXT';
    if (accepted.length < 1 || accepted.length > QUIZ_LIMITS.acceptedAnswersMax)
      errors[`${at}.acceptedAnswers`] = `must list 1 to ${QUIZ_LIMITS.acceptedAnswersMax} accepted answers`;
    accepted.forEach((a, j) => {
      if (normalizeText(a).length < 1 || a.length > QUIZ_LIMITS.answerTextMax)
        errors[`${at}.acceptedAnswers[${j}]`] =
          `must be 1 to ${QUIZ_LIMITS.answerTextMax.toLocaleString('en')} characters`;
    });
    draft.acceptedAnswers = accepted;
    return draft;
  }
  // NUMERIC
  if (accepted.length !== 1 || !isNumberText(accepted[0]!))
    errors[`${at}.acceptedAnswers`] = 'NUMERIC needs exactly one accepted answer: a finite number, as text';
  const tolerance = q.tolerance ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1e12)
    errors[`${at}.tolerance`] = 'must be a number from 0 to 1e12';
  draft.acceptedAnswers = accepted.length === 1 ? [String(Number(accepted[0]))] : accepted;
  draft.tolerance = tolerance;
  return draft;
}

const isNumberText = (s: string) => s.trim() !== '' && Number.isFinite(Number(s)) && Math.abs(Number(s)) <= 1e15;

/** SHORT_TEXT comparison: trimmed, case-folded, inner runs of white space made one space. */
export function normalizeText(s: string): string {
  return s.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ');
}

/**
 * Checks answers against the questions' shapes only (never against what is correct): the same
 * work, and the same answer, whether an answer is right or wrong. Errors name
 * `input.answers[i].<field>`.
 */
export function validateAnswers(answers: AnswerInput[], questions: QuestionRow[]): Map<string, StoredAnswer> {
  const errors: FieldErrors = {};
  const byId = new Map(questions.map((q) => [q.id, q]));
  const out = new Map<string, StoredAnswer>();
  if (answers.length > questions.length) errors['input.answers'] = `must list at most ${questions.length} answers`;
  answers.forEach((a, i) => {
    const at = `input.answers[${i}]`;
    const question = byId.get(a.questionId);
    if (!question) return void (errors[`${at}.questionId`] = 'is not a question of this quiz');
    if (out.has(question.id)) return void (errors[`${at}.questionId`] = 'is answered twice in this request');
    if (isChoiceKind(question.kind)) {
      if (a.text != null || a.number != null) errors[at] = `${question.kind} takes choiceIds only`;
      const ids = a.choiceIds ?? [];
      const known = new Set(question.choices.map((c) => c.id));
      if (ids.some((id) => !known.has(id))) errors[`${at}.choiceIds`] = 'names a choice of another question';
      else if (new Set(ids).size !== ids.length) errors[`${at}.choiceIds`] = 'repeats a choice';
      else if (question.kind === 'SINGLE_CHOICE' && ids.length > 1)
        errors[`${at}.choiceIds`] = 'SINGLE_CHOICE takes at most one choice';
      out.set(question.id, { choiceIds: ids });
    } else if (question.kind === 'SHORT_TEXT') {
      if (a.choiceIds != null || a.number != null) errors[at] = 'SHORT_TEXT takes text only';
      const text = a.text ?? '';
      if (text.length > QUIZ_LIMITS.answerTextMax)
        errors[`${at}.text`] = `must be at most ${QUIZ_LIMITS.answerTextMax.toLocaleString('en')} characters`;
      out.set(question.id, { text });
    } else {
      if (a.choiceIds != null || a.text != null) errors[at] = 'NUMERIC takes number only';
      if (a.number == null || !Number.isFinite(a.number)) errors[`${at}.number`] = 'must be a finite number';
      else out.set(question.id, { number: a.number });
    }
  });
  if (Object.keys(errors).length) throw AppError.badInput(errors);
  return out;
}
