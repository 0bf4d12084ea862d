/**
 * A start-up failure the user can fix, as one line that says what is wrong and what to do.
 * Entry points print its message alone (no stack) and exit 1; anything else is a bug and keeps
 * its stack.
 */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

/** A connection URL as it may be printed: everything but the password. */
export function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    return u.toString().replace(/:@/, '@');
  } catch {
    return '(an unparsable URL)';
  }
}

/** The line an entry point prints for a failed start, `EduFlow cannot start: …` when it is known. */
export function startupFailureLine(err: unknown): string | undefined {
  return err instanceof StartupError ? `EduFlow cannot start: ${err.message}` : undefined;
}
