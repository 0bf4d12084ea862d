import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';

/** The range every DateTime input must fall in: Postgres and JS dates both hold it exactly. */
const DATE_TIME_MIN = new Date('1900-01-01T00:00:00.000Z');
const DATE_TIME_MAX = new Date('9999-12-31T23:59:59.999Z');

function inRange(value: Date): Date {
  const t = value.getTime();
  if (!(t >= DATE_TIME_MIN.getTime() && t <= DATE_TIME_MAX.getTime())) {
    throw new GraphQLError('DateTime must be between 1900-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z');
  }
  return value;
}

/**
 * ISO-8601 date-times with offset; parsed to and served from JS Dates. Inputs outside
 * 1900-01-01 .. 9999-12-31 (UTC) are refused as bad input: graphql-scalars accepts year 0000,
 * which Postgres does not (a 500 before the bound), and nothing in EduFlow lives that far out.
 */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: `${DateTimeResolver.description} Inputs must lie between 1900-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.`,
  serialize: (value) => DateTimeResolver.serialize(value) as unknown as string,
  parseValue: (value) => inRange(DateTimeResolver.parseValue(value) as Date),
  parseLiteral: (ast: ValueNode, variables?: Record<string, unknown> | null) =>
    inRange(DateTimeResolver.parseLiteral(ast, variables) as Date),
  extensions: DateTimeResolver.extensions,
});
