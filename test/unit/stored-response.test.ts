import type { FormattedExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { hitBody, isStoredEntry, StoredData, storedHit, stringifyResult } from '../../src/cache/response-cache.js';

const asData = (d: StoredData) => d as unknown as Record<string, unknown>;

describe('stringifyResult (cache hits written as stored bytes)', () => {
  const entry = JSON.stringify({
    data: { courses: { totalCount: 2, edges: [{ node: { title: 'Ünïcode "quoted" \u2028' } }] } },
  });

  it('splices the stored data in as text, byte for byte what Apollo writes for the parsed value', () => {
    const result: FormattedExecutionResult = {
      data: asData(new StoredData(entry)),
      extensions: { cost: { requested: 3, remaining: 7 } },
    };
    const expected =
      JSON.stringify({ data: JSON.parse(entry).data, extensions: { cost: { requested: 3, remaining: 7 } } }) + '\n';
    expect(stringifyResult(result)).toBe(expected);
    expect(stringifyResult({ data: asData(new StoredData(entry)) })).toBe(entry + '\n');
  });

  it('does not parse the entry on that path', () => {
    const parsed = new StoredData(entry);
    parsed.toJSON = () => {
      throw new Error('parsed');
    };
    expect(() => stringifyResult({ data: asData(parsed) })).not.toThrow();
  });

  it('falls back to JSON.stringify for everything else', () => {
    expect(stringifyResult({ data: { a: 1 }, extensions: { b: 2 } })).toBe('{"data":{"a":1},"extensions":{"b":2}}\n');
    const odd = new StoredData('{"other":1}'); // not the stored shape: parsed (and then has no data)
    expect(stringifyResult({ data: asData(odd) })).toBe('{}\n');
    const withErrors = { errors: [{ message: 'x' }], data: asData(new StoredData(entry)) };
    expect(stringifyResult(withErrors)).toBe(
      JSON.stringify({ errors: [{ message: 'x' }], data: JSON.parse(entry).data }) + '\n',
    );
  });
});

describe('hitBody (a hit answered before Apollo, from the entry as bytes)', () => {
  const entry = JSON.stringify({ data: { course: { title: 'Ünïcode "quoted" \u2028 😀', lessons: [1, 2] } } });
  const bytes = Buffer.from(entry);

  it("writes exactly stringifyResult's bytes, with and without extensions", () => {
    const data = new StoredData(entry) as unknown as Record<string, unknown>;
    expect(hitBody(bytes).toString()).toBe(stringifyResult({ data }));
    const extensions = { cost: { requested: 3, remaining: 7, resetInSeconds: 60 } };
    expect(hitBody(bytes, extensions).equals(Buffer.from(stringifyResult({ data, extensions })))).toBe(true);
    expect(JSON.parse(hitBody(bytes, extensions).toString())).toEqual({ ...JSON.parse(entry), extensions });
  });

  it('recognises only entries in the stored shape', () => {
    expect(isStoredEntry(bytes)).toBe(true);
    for (const other of ['', '{"data":', '{"data":1', '{"errors":[]}', '["data"]', ' {"data":1}'])
      expect(isStoredEntry(Buffer.from(other))).toBe(false);
  });

  it('reads a record (ETag, then entry) into the body hitBody writes, made once, and refuses malformed records', () => {
    const etag = '"abcdefghijklmnopqrstuv"';
    const hit = storedHit(Buffer.from(etag + entry));
    expect(hit?.etag).toBe(etag);
    expect(hit?.entry.equals(bytes)).toBe(true);
    expect(hit?.body.equals(hitBody(bytes))).toBe(true);
    for (const other of [entry, `"short"${entry}`, `${etag}{"errors":[]}`, etag])
      expect(storedHit(Buffer.from(other))).toBeNull();
  });
});
