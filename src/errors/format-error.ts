import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { databaseOutage } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import { AppError, ErrorCode } from './app-error.js';

/** Codes graphql and Apollo produce themselves for bad requests; safe to show as they are. */
const REQUEST_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);
const APP_CODES = new Set<string>(Object.values(ErrorCode));

/** type-graphql's own authorization errors, mapped to the contract's codes. */
const TYPE_GRAPHQL_CODES: Record<string, ErrorCode> = {
  UNAUTHORIZED: ErrorCode.UNAUTHENTICATED,
  FORBIDDEN: ErrorCode.FORBIDDEN,
};

/** The request each error arose in: Apollo gives `formatError` no context, so a plugin notes it. */
const requestIds = new WeakMap<object, string>();

/** Notes the request id of every error an operation produced, for the formatter's log line. */
export function errorRequestIdPlugin(): ApolloServerPlugin<{ readonly requestId: string }> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const err of errors) requestIds.set(err, contextValue.requestId);
        },
      };
    },
  };
}

/**
 * The one error formatter (HTTP and WebSocket). AppErrors become their code and details;
 * graphql's request errors pass through; everything else is logged with the request id and
 * answered as a bare INTERNAL_SERVER_ERROR, never with a message or stack from inside.
 */
export function createErrorFormatter(log: Logger, options: { hideSuggestions?: boolean } = {}) {
  // Over WebSocket the caller passes the request id; over HTTP the plugin above noted it.
  return (formatted: GraphQLFormattedError, error: unknown, requestId = requestIdOf(error)): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const where = { locations: formatted.locations, path: formatted.path };

    if (original instanceof AppError) {
      return { message: original.message, ...where, extensions: { code: original.code, ...original.details } };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string') {
      if (REQUEST_ERROR_CODES.has(code)) {
        // With introspection off, "Did you mean ...?" would leak the schema piece by piece.
        const message = options.hideSuggestions
          ? formatted.message.replace(/ ?Did you mean .*\?$/, '')
          : formatted.message;
        return { message, ...where, extensions: { code } };
      }
      const mapped = TYPE_GRAPHQL_CODES[code];
      if (mapped) return { message: formatted.message, ...where, extensions: { code: mapped } };
      // GraphQLErrors raised on purpose with one of our codes (e.g. the context function's
      // UNAUTHENTICATED) keep their message and public extensions.
      if (APP_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR && original instanceof GraphQLError) {
        const { stacktrace: _s, http: _h, ...extensions } = formatted.extensions ?? {};
        return {
          message: formatted.message.replace(/^Context creation failed: /, ''),
          ...where,
          extensions: { ...extensions, code },
        };
      }
    }
    // Apollo's own refusals of a malformed request that carry an HTTP 4xx but no code (an APQ
    // hash that does not match its query, an unsupported APQ version): the client's mistake.
    if (
      original instanceof GraphQLError &&
      !original.originalError &&
      original.extensions?.code === undefined &&
      isClientStatus(original.extensions?.http)
    ) {
      return { message: formatted.message, ...where, extensions: { code: 'BAD_REQUEST' } };
    }
    // graphql-js's own errors about the request (a null reaching a non-null argument through
    // a variable's default, "Too many errors processing variables" after 50 bad ones) carry
    // no code of their own, no path and wrap nothing: the client's mistake. (Apollo has
    // already stamped INTERNAL_SERVER_ERROR on `formatted`, so the original is what counts.)
    if (
      original instanceof GraphQLError &&
      !original.originalError &&
      original.extensions?.code === undefined &&
      original.path === undefined
    ) {
      return { message: formatted.message, ...where, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    const outage = databaseOutage(original);
    if (outage) {
      log.warn(
        { err: original, path: formatted.path, requestId, outage },
        'database unavailable while handling a GraphQL request',
      ); // err serializer drops query parameters
      const message =
        outage === 'timeout'
          ? 'The database took too long to answer; try again'
          : 'The service is temporarily unavailable; try again shortly';
      return {
        message,
        ...where,
        extensions: {
          code: ErrorCode.SERVICE_UNAVAILABLE,
          reason: outage === 'timeout' ? 'TIMEOUT' : 'DATABASE_UNAVAILABLE',
        },
      };
    }
    log.error({ err: original, path: formatted.path, requestId }, 'unexpected error while handling a GraphQL request');
    return { message: 'Internal server error', ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}

function requestIdOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? requestIds.get(error) : undefined;
}

function isClientStatus(http: unknown): boolean {
  const status = (http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}
