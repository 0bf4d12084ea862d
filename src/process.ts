import { ConfigError, loadConfig, type Config } from './config/config.js';
import type { Logger } from './logging/logger.js';
import { startupFailureLine } from './startup/startup-error.js';

/** The configuration, or every problem with it printed and exit code 1 (entry points only). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * On SIGTERM or SIGINT: run `close` once, exit 0 when it finishes, 1 if it fails or takes
 * longer than `limitMs` (a stuck shutdown must not keep an orchestrator waiting forever).
 */
export function exitOnSignals(log: Logger, what: string, limitMs: number, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${what} shutting down`);
    setTimeout(() => {
      log.error(`${what} shutdown timed out; exiting`);
      process.exit(1);
    }, limitMs).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, `error during ${what} shutdown`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * The end of a failed start: a failure the user can fix as its one line (StartupError), anything
 * else with its stack. Written to stderr directly: console may be routed into the logger by now.
 */
export function exitOnStartupFailure(what: string) {
  return (err: unknown): never => {
    const line = startupFailureLine(err);
    process.stderr.write(line ? `${line}\n` : `${what} failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
}
