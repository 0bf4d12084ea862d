import { ApolloServer } from '@apollo/server';
import { GraphQLError, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { createErrorFormatter, errorRequestIdPlugin } from '../../src/errors/format-error.js';

describe(createErrorFormatter.name, () => {
  const logged: unknown[] = [];
  const format = createErrorFormatter(
    pino({ level: 'error' }, { write: (l: string) => void logged.push(JSON.parse(l)) }),
  );
  const asResolverError = (original: Error) =>
    new GraphQLError(original.message, { path: ['x'], originalError: original });

  it('maps AppErrors to their code and details', () => {
    const err = AppError.badInput({ title: 'is required' });
    expect(format({ message: err.message, path: ['x'] }, asResolverError(err))).toEqual({
      message: err.message,
      path: ['x'],
      locations: undefined,
      extensions: { code: 'BAD_USER_INPUT', fieldErrors: { title: 'is required' } },
    });
  });

  it('masks unknown errors as INTERNAL_SERVER_ERROR and logs them', () => {
    const before = logged.length;
    const out = format(
      {
        message: 'relation "secret_table" does not exist',
        path: ['x'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at db.ts:1'] },
      },
      asResolverError(new Error('relation "secret_table" does not exist')),
    );
    expect(out).toEqual({
      message: 'Internal server error',
      path: ['x'],
      locations: undefined,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(logged.length).toBe(before + 1);
  });

  it('logs an unexpected error with the id of the request it arose in', () => {
    format({ message: 'boom', path: ['x'] }, asResolverError(new Error('boom')), 'request-42');
    expect(logged.at(-1)).toMatchObject({
      requestId: 'request-42',
      msg: 'unexpected error while handling a GraphQL request',
    });
  });

  it("learns an HTTP request's id from errorRequestIdPlugin (Apollo gives formatError no context)", async () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          boom: {
            type: GraphQLString,
            resolve: () => {
              throw new Error('boom');
            },
          },
        },
      }),
    });
    const apollo = new ApolloServer<{ requestId: string }>({
      schema,
      formatError: format,
      plugins: [errorRequestIdPlugin()],
    });
    await apollo.start();
    try {
      await apollo.executeOperation({ query: '{ boom }' }, { contextValue: { requestId: 'request-7' } });
      expect(logged.at(-1)).toMatchObject({
        requestId: 'request-7',
        msg: 'unexpected error while handling a GraphQL request',
      });
    } finally {
      await apollo.stop();
    }
  });

  it("maps type-graphql's UNAUTHORIZED to UNAUTHENTICATED", () => {
    const out = format(
      { message: 'Access denied!', extensions: { code: 'UNAUTHORIZED' } },
      new GraphQLError('Access denied!', { extensions: { code: 'UNAUTHORIZED' } }),
    );
    expect(out.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it("passes graphql's own request errors through", () => {
    const out = format(
      { message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
      new GraphQLError('Cannot query field "x"'),
    );
    expect(out).toMatchObject({ message: 'Cannot query field "x"', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });
});
