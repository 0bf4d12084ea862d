import { parse, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAppSchema } from '../../src/schema.js';
import { audienceKeys } from '../../src/ws/audience.js';

const DOCUMENT = parse(`subscription Follow($c: ID, $after: String = "none", $n: Float) {
  lessonStatusChanged(courseId: $c, after: $after) { lesson { id title } } }`);

/** Subscriptions share one execution of an event only when their keys are equal. */
describe('live audience keys', () => {
  let schema: GraphQLSchema;
  let keyOf: (variables: Record<string, unknown>) => string;

  beforeAll(async () => {
    schema = await buildAppSchema();
    const keys = audienceKeys(schema);
    keyOf = (variableValues) =>
      keys.baseOf({
        schema,
        document: DOCUMENT,
        operationName: 'Follow',
        variableValues,
        contextValue: { viewer: { userId: 'u1' } },
      } as unknown as ExecutionArgs);
  });

  it('are equal for variables that differ as sent but coerce to equal values', () => {
    const key = keyOf({ c: '42' });
    expect(keyOf({ c: 42 })).toBe(key); // an ID sent as a number
    expect(keyOf({ junk: true, c: '42' })).toBe(key); // an undeclared variable is dropped
    expect(keyOf({ c: '42', after: 'none' })).toBe(key); // the default, spelled out
    expect(keyOf({ c: '42', n: null })).toBe(keyOf({ n: null, c: '42' })); // key order
  });

  it('differ for variables whose JSON is equal but whose values are not (Infinity is written as null)', () => {
    expect(JSON.stringify({ c: '42', n: Infinity })).toBe(JSON.stringify({ c: '42', n: null }));
    expect(keyOf({ c: '42', n: Infinity })).not.toBe(keyOf({ c: '42', n: null }));
    // Variables that do not coerce share with nobody, not even each other.
    expect(keyOf({ c: '42', n: Infinity })).not.toBe(keyOf({ c: '42', n: Infinity }));
  });

  it('differ for different values', () => {
    expect(keyOf({ c: '42' })).not.toBe(keyOf({ c: '43' }));
    expect(keyOf({ c: '42', after: 'cursor' })).not.toBe(keyOf({ c: '42' }));
  });
});
