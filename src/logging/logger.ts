import { pino, type DestinationStream, type Logger } from 'pino';
import PinoPretty from 'pino-pretty';

export type { Logger };

/** Paths that must never reach a log line, wherever they appear in a logged object. */
const REDACT = [
  'password',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  'token',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'variables.input.password',
  'variables.input.currentPassword',
  'variables.input.newPassword',
  'variables.input.refreshToken',
  'email',
  '*.email',
  'variables.input.email',
];

/**
 * Errors as pino logs them, minus what a failed query carries: Drizzle puts the statement's
 * parameters (emails, hashes, tokens) in the message, the stack and a `params` field.
 */
function safeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as Record<string, unknown>;
  const strip = (v: unknown) =>
    typeof v === 'string'
      ? v
          .replace(/\nparams: [\s\S]*?(\n|$)/g, '\nparams: [redacted]$1')
          .replace(/params: [^\n]*/g, 'params: [redacted]')
      : v;
  out.message = strip(out.message);
  out.stack = strip(out.stack);
  delete out.params;
  if (out.cause && typeof out.cause === 'object') out.cause = safeError(out.cause);
  return out;
}

/** `destination`: stdout unless given (tests read the lines back). */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service: 'eduflow', ...bindings },
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: safeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * The process's logger as configured: JSON lines, or (LOG_FORMAT=pretty, the default on a
 * development terminal) pino-pretty's coloured one-liners, formatted in-process and
 * synchronously so the start-up progress lines appear in order.
 */
export function createConfiguredLogger(
  config: { logLevel: string; logFormat: 'json' | 'pretty' },
  bindings: Record<string, unknown> = {},
): Logger {
  const pretty =
    config.logFormat === 'pretty'
      ? PinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service', singleLine: true })
      : undefined;
  return createLogger(config.logLevel, bindings, pretty);
}
