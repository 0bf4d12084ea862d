import {
  GraphQLError,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  parse,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { JitExecutor } from '../../src/graphql/jit-executor.js';

class Refused extends Error {
  readonly code = 'FORBIDDEN';
}

const Item = new GraphQLObjectType({
  name: 'Item',
  fields: {
    name: { type: GraphQLString },
    // A promise in a plain property: it needs a resolver under graphql-jit (see relay.types.ts).
    count: { type: GraphQLInt, resolve: (item: { count: Promise<number> }) => item.count },
    secret: {
      type: GraphQLString,
      resolve: () => {
        throw new Refused('Not allowed to read Item.secret');
      },
    },
  },
});

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      items: {
        type: new GraphQLList(Item),
        args: { first: { type: GraphQLInt } },
        resolve: (_: unknown, { first }: { first?: number | null }) =>
          [1, 2, 3].slice(0, first ?? 3).map((n) => ({ name: `item ${n}`, count: Promise.resolve(n) })),
      },
      echo: {
        type: GraphQLString,
        args: { value: { type: GraphQLString } },
        resolve: (_: unknown, args: Record<string, unknown>) =>
          'value' in args ? `got ${String(args.value)}` : 'absent',
      },
      viewer: { type: GraphQLString, resolve: (_: unknown, __: unknown, ctx: { who: string }) => ctx.who },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: { touch: { type: new GraphQLNonNull(GraphQLString), resolve: () => 'touched' } },
  }),
});

function operationOf(document: DocumentNode, name?: string): OperationDefinitionNode {
  return document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && (!name || d.name?.value === name),
  )!;
}

function executor(compileAfter: number) {
  const outcomes: string[] = [];
  const jit = new JitExecutor(schema, compileAfter, (o) => outcomes.push(o));
  const run = (document: DocumentNode, variables?: Record<string, unknown>, name?: string) =>
    Promise.resolve(jit.run(document, operationOf(document, name), name, variables, { who: 'ada' }));
  return { run, outcomes };
}

describe('JitExecutor', () => {
  it('compiles a query on its Nth execution, once, and answers as graphql-js did before', async () => {
    const { run, outcomes } = executor(2);
    const doc = parse('{ items(first: 2) { name count } viewer }');
    const first = await run(doc);
    expect(outcomes).toEqual([]);
    const second = await run(doc);
    expect(outcomes).toEqual(['compiled']);
    await run(doc);
    expect(outcomes).toEqual(['compiled']);
    expect(second).toEqual(first);
    expect(first).toEqual({
      data: {
        items: [
          { name: 'item 1', count: 1 },
          { name: 'item 2', count: 2 },
        ],
        viewer: 'ada',
      },
    });
  });

  it('never compiles with 0, nor a mutation', async () => {
    const off = executor(0);
    const doc = parse('{ viewer }');
    for (let i = 0; i < 3; i++) expect(await off.run(doc)).toEqual({ data: { viewer: 'ada' } });
    expect(off.outcomes).toEqual([]);
    const on = executor(1);
    const mutation = parse('mutation { touch }');
    for (let i = 0; i < 3; i++) expect(await on.run(mutation)).toEqual({ data: { touch: 'touched' } });
    expect(on.outcomes).toEqual([]);
  });

  it('compiles each operation of a document on its own', async () => {
    const { run, outcomes } = executor(1);
    const doc = parse('query A { viewer } query B { echo(value: "b") }');
    expect(await run(doc, undefined, 'A')).toEqual({ data: { viewer: 'ada' } });
    expect(await run(doc, undefined, 'B')).toEqual({ data: { echo: 'got b' } });
    expect(outcomes).toEqual(['compiled', 'compiled']);
  });

  it("reports field errors as graphql-js's own errors: path, locations, the original error", async () => {
    const doc = parse('{ items(first: 1) { name secret } }');
    const plain = await executor(0).run(doc);
    const compiled = await executor(1).run(doc);
    for (const result of [plain, compiled]) {
      expect(result.data).toEqual({ items: [{ name: 'item 1', secret: null }] });
      const error = result.errors![0]!;
      expect(error).toBeInstanceOf(GraphQLError);
      expect(error.originalError).toBeInstanceOf(Refused);
      // Apollo reads extensions.code of every error: it must be an object.
      expect(error.extensions).toEqual({});
    }
    expect(compiled.errors!.map((e) => e.toJSON())).toEqual(plain.errors!.map((e) => e.toJSON()));
  });

  it('refuses an invalid variable exactly as graphql-js does (with the variable node Apollo needs for a 400)', async () => {
    const doc = parse('query($n: Int) { items(first: $n) { name } }');
    const plain = await executor(0).run(doc, { n: 'many' });
    const compiled = await executor(1).run(doc, { n: 'many' });
    expect(compiled.errors?.map((e) => e.message)).toEqual(plain.errors?.map((e) => e.message));
    expect(compiled.errors?.[0]?.nodes?.[0]?.kind).toBe('VariableDefinition');
    expect(compiled.data).toBeUndefined();
  });

  it('does not read an absent variable named like an Object.prototype member from the prototype', async () => {
    const { run, outcomes } = executor(1);
    const doc = parse(
      'query($toString: String, $constructor: String) { a: echo(value: $toString) b: echo(value: $constructor) }',
    );
    expect(await run(doc, {})).toEqual({ data: { a: 'absent', b: 'absent' } });
    expect(await run(doc, { toString: 'x' })).toEqual({ data: { a: 'got x', b: 'absent' } });
    expect(outcomes).toEqual(['compiled']);
  });

  it('answers a variable named __proto__ as graphql-js does, compiled or not', async () => {
    const doc = parse('query($__proto__: Int, $v: String) { items(first: $__proto__) { name } echo(value: $v) }');
    // As JSON.parse reads a request body: `__proto__` an own property, not the prototype.
    const variables = JSON.parse('{"__proto__": 1, "v": "x"}') as Record<string, unknown>;
    const expected = { data: { items: [{ name: 'item 1' }], echo: 'got x' } };
    expect(await executor(0).run(doc, variables)).toEqual(expected);
    const { run, outcomes } = executor(1);
    expect(await run(doc, variables)).toEqual(expected);
    expect(await run(doc, variables)).toEqual(expected);
    expect(outcomes).toEqual(['compiled']);
    const list = parse('query($__proto__: [String]) { echo(value: "y") items { name } a: items(first: 1) { name } }');
    expect(await run(list, JSON.parse('{"__proto__": ["a", "b"]}'))).toEqual(await executor(0).run(list, {}));
  });

  it('coerces the variables once per run, compiled or not (a counting scalar)', async () => {
    let parsed = 0;
    const Counted = new GraphQLScalarType({
      name: 'Counted',
      parseValue: (v) => (parsed++, Number(v)),
      serialize: (v) => v,
    });
    const counting = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          twice: {
            type: GraphQLInt,
            args: { n: { type: Counted } },
            resolve: (_: unknown, { n }: { n: number }) => n * 2,
          },
        },
      }),
    });
    const doc = parse('query($n: Counted) { a: twice(n: $n) b: twice(n: $n) }');
    for (const compileAfter of [0, 1]) {
      const jit = new JitExecutor(counting, compileAfter);
      for (let i = 0; i < 3; i++) {
        parsed = 0;
        expect(await jit.run(doc, operationOf(doc), undefined, { n: '5' }, {})).toEqual({ data: { a: 10, b: 10 } });
        expect(parsed).toBe(1);
      }
    }
  });
});
