import { GraphQLError } from 'graphql';

/**
 * The closed set of error codes the API answers with (see the contract's header comment).
 * Services throw `AppError`; `formatError` (errors/format-error.ts) is the one place that
 * turns them into GraphQL errors, and masks everything else.
 */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  /** Enrolling in a paid course without an entitlement: buy it (startCheckout) or be granted access. */
  PAYMENT_REQUIRED: 'PAYMENT_REQUIRED',
  /** Checkout asked while no payment provider is configured (or it cannot be reached). */
  PAYMENT_UNAVAILABLE: 'PAYMENT_UNAVAILABLE',
  /** A dependency (Postgres) is unreachable or too slow right now; retry later. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for a response whose every error carries this code and which has no data. */
export const httpStatusOf: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYMENT_REQUIRED: 402,
  PAYMENT_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/** Field name → human message, for BAD_USER_INPUT. */
export type FieldErrors = Record<string, string>;

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  /**
   * For the places that must hand graphql a GraphQLError rather than throw from a resolver
   * (context creation, request plugins, graphql-ws' onSubscribe); `http` sets Apollo's status.
   */
  toGraphQLError(http?: { status: number; headers?: Map<string, string> }): GraphQLError {
    return new GraphQLError(this.message, {
      extensions: { code: this.code, ...this.details, ...(http ? { http } : {}) },
    });
  }

  static badInput(fieldErrors: FieldErrors, message?: string): AppError {
    const fields = Object.keys(fieldErrors);
    return new AppError(
      ErrorCode.BAD_USER_INPUT,
      message ?? `Invalid input: ${fields.map((f) => `${f} ${fieldErrors[f]}`).join('; ')}`,
      { fieldErrors },
    );
  }

  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  static unauthenticated(message = 'Sign in required'): AppError {
    return new AppError(ErrorCode.UNAUTHENTICATED, message);
  }

  static forbidden(message = 'Not allowed'): AppError {
    return new AppError(ErrorCode.FORBIDDEN, message);
  }

  static conflict(message: string, details: Record<string, unknown> = {}): AppError {
    return new AppError(ErrorCode.CONFLICT, message, details);
  }
}
