import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

/**
 * zxcvbn-ts with its common dictionaries (breached passwords, names, frequent words) and the
 * English ones, all bundled in the packages: no network. Built once, on first use, and kept
 * (the dictionaries take a moment to index; every later check reuses them).
 */
let factory: ZxcvbnFactory | undefined;
const MAX_CHECKED = 20;

function checker(): ZxcvbnFactory {
  return (factory ??= new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
    // Matching grows fast with length (seconds for 128 repetitive characters, on the event
    // loop): only the first MAX_CHECKED characters are scored. A password that long with a
    // strong start is strong; the variety rule still sees the whole password.
    maxLength: MAX_CHECKED,
  }));
}

/** zxcvbn's score (0-4) of a password, given what it must not lean on (the email, its name). */
export function passwordScore(password: string, userInputs: readonly string[] = []): number {
  return checker().check(password.slice(0, MAX_CHECKED), [...userInputs]).score;
}
