import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DocumentMemo, operationKey } from '../../src/graphql/document-memo.js';

describe('DocumentMemo', () => {
  it('computes once per document and key, keeps a bounded number of keys, skips long keys', () => {
    const memo = new DocumentMemo<number>(2, 20);
    const doc = parse('{ __typename }');
    let calls = 0;
    const compute = () => ++calls;
    expect(memo.get(doc, 'a', compute)).toBe(1);
    expect(memo.get(doc, 'a', compute)).toBe(1);
    expect(memo.get(parse('{ __typename }'), 'a', compute)).toBe(2); // another document object
    memo.get(doc, 'b', compute); // 3
    memo.get(doc, 'c', compute); // 4: drops 'a' (two keys per document)
    expect(memo.get(doc, 'a', compute)).toBe(5);
    expect(memo.get(doc, 'x'.repeat(21), compute)).toBe(6);
    expect(memo.get(doc, 'x'.repeat(21), compute)).toBe(7);
  });

  it('remembers null (no key) as an answer', () => {
    const memo = new DocumentMemo<string | null>();
    const doc = parse('{ __typename }');
    let calls = 0;
    memo.get(doc, 'k', () => (calls++, null));
    expect(memo.get(doc, 'k', () => (calls++, 'x'))).toBeNull();
    expect(calls).toBe(1);
  });

  it('keys by operation name and coerced variables', () => {
    expect(operationKey('A', '{"first":1}')).not.toBe(operationKey('A', '{"first":2}'));
    expect(operationKey('A', '{}')).not.toBe(operationKey('B', '{}'));
    expect(operationKey(null, '{}')).toBe(operationKey(undefined, '{}'));
    const memo = new DocumentMemo<number>();
    let calls = 0;
    const doc = parse('{ __typename }');
    memo.get(doc, undefined, () => ++calls);
    expect(memo.get(doc, undefined, () => ++calls)).toBe(2);
  });
});
