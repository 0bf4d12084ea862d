import { format } from 'node:util';
import type { Logger } from './logger.js';

/**
 * Libraries that report through `console` (graphql-ws prints "Internal error emitted on a
 * WebSocket socket" with a plain-text stack when a client sends an oversized message) would
 * write outside the JSON logs. In the API and worker processes, console.error and console.warn
 * become pino lines: the message, and the first Error as `err` (serialized, redacted).
 * console.log stays as it is (the start-up banner).
 */
export function routeConsoleToLogger(log: Logger): void {
  const target = log.child({ module: 'console' });
  const route =
    (level: 'error' | 'warn') =>
    (...args: unknown[]) => {
      const err = args.find((a): a is Error => a instanceof Error);
      const message = format(...args.filter((a) => a !== err)).slice(0, 2_000);
      target[level](err ? { err } : {}, message);
    };
  console.error = route('error');
  console.warn = route('warn');
}
