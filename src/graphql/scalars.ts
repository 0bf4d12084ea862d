import { DateTimeResolver } from 'graphql-scalars';

/** ISO-8601 date-times with offset; parsed to and served from JS Dates. */
export const DateTime = DateTimeResolver;
