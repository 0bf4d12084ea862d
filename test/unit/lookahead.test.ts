import { buildSchema, parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { argumentsOf } from '../../src/graphql/lookahead.js';

const schema = buildSchema(`
  type Query { course: Course }
  type Course { lessons(first: Int = 10, status: String): [String] }
`);

/** The `lessons` field node of `course { lessons(...) }` in a parsed document. */
function lessonsNode(query: string): FieldNode {
  const op = parse(query).definitions[0] as OperationDefinitionNode;
  const course = op.selectionSet.selections[0] as FieldNode;
  return course.selectionSet!.selections[0] as FieldNode;
}

describe(argumentsOf.name, () => {
  it('reads arguments written in the document, with defaults, the same on every request', () => {
    const node = lessonsNode('{ course { lessons(status: "DRAFT") } }');
    const first = argumentsOf({ schema, variableValues: {} }, 'Course', node);
    expect(first).toEqual({ first: 10, status: 'DRAFT' });
    expect(argumentsOf({ schema, variableValues: {} }, 'Course', node)).toEqual(first);
  });

  it("takes each request's own variables, however often the document runs", () => {
    const node = lessonsNode('query Q($n: Int, $s: String) { course { lessons(first: $n, status: $s) } }');
    expect(argumentsOf({ schema, variableValues: { n: 3, s: 'A' } }, 'Course', node)).toEqual({
      first: 3,
      status: 'A',
    });
    expect(argumentsOf({ schema, variableValues: { n: 5, s: 'B' } }, 'Course', node)).toEqual({
      first: 5,
      status: 'B',
    });
  });

  it('is null when the arguments do not coerce (the resolver reports it)', () => {
    const node = lessonsNode('{ course { lessons(first: "many") } }');
    expect(argumentsOf({ schema, variableValues: {} }, 'Course', node)).toBeNull();
    expect(argumentsOf({ schema, variableValues: {} }, 'Course', node)).toBeNull();
  });
});
