import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { GraphQLError } from 'graphql';
import { SAFE_REQUEST_ID } from '../http/request-id.js';
import type { Logger } from '../logging/logger.js';

/** What a socket's log lines need, kept on its extra. */
export interface SocketLogState {
  /** The upgrade request's id (a well-formed `X-Request-ID`, as on HTTP, else a new one). */
  readonly requestId: string;
  readonly openedAt: number;
  /** Subscriptions this socket started, over its lifetime. */
  served?: number;
  viewer?: { readonly userId: string | null };
}

/**
 * Closes that mean something went wrong, on the client's side or ours: logged at warn. 4400
 * bad message, 4403 refused credentials, 4408 no connection_init, 4409/4429 protocol misuse,
 * 4500 internal, 1008 slow consumer, 1009 message too big, 1011 server error, 1013 try later.
 */
const WARN_CLOSES = new Set([4400, 4403, 4408, 4409, 4429, 4500, 1008, 1009, 1011, 1013]);

export function socketRequestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The WebSocket side's log lines, under the same logger (and so the same redaction) as HTTP:
 * connection open and close at info (warn for the closes above), subscriptions at debug,
 * refused or failed operations at warn. Credentials, variables and payloads are never logged.
 */
export function wsLog(log: Logger) {
  const base = (s: SocketLogState) => ({ requestId: s.requestId, userId: s.viewer?.userId ?? undefined });
  return {
    opened(s: SocketLogState) {
      log.info(base(s), 'ws connection open');
    },
    closed(s: SocketLogState, code: number, reason: string) {
      const fields = {
        ...base(s),
        code,
        reason: reason || undefined,
        durationMs: Math.round(performance.now() - s.openedAt),
        subscriptions: s.served ?? 0,
      };
      if (WARN_CLOSES.has(code)) log.warn(fields, 'ws connection closed');
      else log.info(fields, 'ws connection closed');
    },
    subscriptionStarted(s: SocketLogState, id: string, operationName: string | undefined) {
      s.served = (s.served ?? 0) + 1;
      if (log.isLevelEnabled('debug')) log.debug({ ...base(s), id, operationName }, 'ws subscription start');
    },
    subscriptionEnded(s: SocketLogState, id: string) {
      if (log.isLevelEnabled('debug')) log.debug({ ...base(s), id }, 'ws subscription end');
    },
    refused(s: SocketLogState, id: string, operationName: string | null | undefined, errors: readonly GraphQLError[]) {
      log.warn(
        { ...base(s), id, operationName: operationName ?? undefined, codes: codesOf(errors) },
        'ws operation refused',
      );
    },
    operation(
      s: SocketLogState,
      id: string,
      operationName: string | undefined,
      operationType: string,
      errors: readonly GraphQLError[] | undefined,
    ) {
      const fields = { ...base(s), id, operationName, operationType };
      if (errors?.length) log.warn({ ...fields, codes: codesOf(errors) }, 'ws operation failed');
      else if (operationType !== 'subscription' && log.isLevelEnabled('debug')) log.debug(fields, 'ws operation');
    },
  };
}

const codesOf = (errors: readonly GraphQLError[]) =>
  errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
