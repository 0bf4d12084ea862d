import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { fromGlobalId, toGlobalId, uuidOf } from '../../src/graphql/global-id.js';
import { decodeCursor, encodeCursor, parsePage, toConnection, type SortSpec } from '../../src/graphql/pagination.js';
import { courses } from '../../src/db/schema.js';

interface Row {
  id: string;
  at: Date;
}
const spec: SortSpec<Row> = {
  key: 'things:AT:DESC',
  column: courses.createdAt,
  idColumn: courses.id,
  kind: 'timestamp',
  direction: 'DESC',
  valueOf: (r) => r.at,
  idOf: (r) => r.id,
};
const ID = '3f1c1d5e-8a4b-4c6d-9e7f-0a1b2c3d4e5f';

describe('cursors', () => {
  it('round-trip the sort value with millisecond precision and the id', () => {
    const at = new Date('2026-03-04T05:06:07.089Z');
    const cursor = encodeCursor(spec, { id: ID, at });
    expect(decodeCursor(spec, cursor, 'after')).toEqual({ value: at, id: ID });
  });

  it('reject cursors of another list, tampered ones and junk with BAD_USER_INPUT', () => {
    const other = encodeCursor({ ...spec, key: 'other:AT:DESC' }, { id: ID, at: new Date() });
    const tampered = Buffer.from(JSON.stringify(['things:AT:DESC', 'not a date', ID])).toString('base64url');
    for (const bad of [other, tampered, 'abc', '!!!', 'x'.repeat(600), Buffer.from('[1,2]').toString('base64url')]) {
      const err = (() => {
        try {
          decodeCursor(spec, bad, 'after');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BAD_USER_INPUT');
    }
  });
});

describe(parsePage.name, () => {
  it('defaults to 20 forward', () => {
    expect(parsePage(spec, {})).toEqual({ backward: false, size: 20, cursor: null });
  });

  it('walks backward with last, or with before alone', () => {
    expect(parsePage(spec, { last: 5 })).toMatchObject({ backward: true, size: 5 });
    const before = encodeCursor(spec, { id: ID, at: new Date() });
    expect(parsePage(spec, { before })).toMatchObject({ backward: true, size: 20 });
  });
});

describe(toConnection.name, () => {
  const rows = [1, 2, 3].map((n) => ({ id: ID.replace(/.$/, String(n)), at: new Date(n * 1000) }));

  it('uses the extra row only to say there is a next page', async () => {
    const conn = toConnection(spec, { backward: false, size: 2, cursor: null }, rows, async () => 3);
    expect(conn.edges.map((e) => e.node)).toEqual(rows.slice(0, 2));
    expect(conn.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(await conn.totalCount).toBe(3);
  });

  it('restores list order when walking backward', () => {
    const conn = toConnection(spec, { backward: true, size: 2, cursor: null }, rows, async () => 3);
    expect(conn.edges.map((e) => e.node)).toEqual([rows[1], rows[0]]);
    expect(conn.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
  });

  it('counts only when asked', () => {
    let counted = 0;
    toConnection(spec, { backward: false, size: 2, cursor: null }, rows, async () => ++counted);
    expect(counted).toBe(0);
  });
});

describe('global ids', () => {
  it('round-trip type and uuid', () => {
    expect(fromGlobalId(toGlobalId('Lesson', ID))).toEqual({ type: 'Lesson', uuid: ID });
    expect(uuidOf('Lesson', toGlobalId('Lesson', ID))).toBe(ID);
    expect(uuidOf('Course', toGlobalId('Lesson', ID))).toBeNull();
  });

  it.each([
    '',
    'a b',
    '::',
    Buffer.from('Course:1234').toString('base64url'),
    Buffer.from(`Robot:${ID}`).toString('base64url'),
  ])('decode %j to null', (id) => expect(fromGlobalId(id)).toBeNull());
});
