import { parse, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { NodeColumns } from '../../src/graphql/selected-columns.js';
import { courseListColumns } from '../../src/modules/courses/course.repository.js';

/** `fieldNodes` and `fragments` of the query's first root field, as its resolver sees them. */
function infoOf(query: string) {
  const document = parse(query);
  const op = document.definitions.find((d) => d.kind === 'OperationDefinition') as OperationDefinitionNode;
  const fragments = Object.fromEntries(
    document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])),
  );
  return { fieldNodes: [op.selectionSet.selections[0] as FieldNode], fragments };
}

const columns = new NodeColumns({ id: 1, ownerId: 2, title: 3, body: 4, createdAt: 5 }, ['id'], {
  owner: ['ownerId'],
});

describe(NodeColumns.name, () => {
  it('loads the columns selected, plus those the known field resolvers read', () => {
    const picked = columns.of(infoOf('{ list { edges { node { title owner { name } } } } }'));
    expect(Object.keys(picked.columns)).toEqual(['id', 'ownerId', 'title']);
    expect(picked.key).toBe('id,ownerId,title');
  });

  it('loads every column for a field whose resolver is not known', () => {
    expect(columns.of(infoOf('{ list { edges { node { title stats } } } }')).key).toBe('*');
  });

  it('reads the selection through fragments', () => {
    const picked = columns.of(
      infoOf('{ list { edges { node { ...F ... on Item { createdAt } } } } } fragment F on Item { owner { name } }'),
    );
    expect(picked.key).toBe('createdAt,id,ownerId');
  });
});

describe('courseListColumns', () => {
  it("loads the catalog's columns only: no description, slug or rating histogram for titles, instructors and lessons", () => {
    const picked = courseListColumns.of(
      infoOf(
        '{ courses(first: 20) { edges { node { title instructor { displayName } lessons(first: 10) { edges { node { title status } } } } } } }',
      ),
    );
    expect(picked.key).not.toBe('*');
    expect(Object.keys(picked.columns)).toEqual(
      expect.arrayContaining(['id', 'instructorId', 'title', 'createdAt', 'ratingOrderDesc', 'ratingOrderAsc']),
    );
    expect(Object.keys(picked.columns)).not.toContain('description');
    expect(Object.keys(picked.columns)).not.toContain('ratingHistogram');
    // Any other resolver may read any column.
    expect(courseListColumns.of(infoOf('{ courses { edges { node { title viewerCan { enroll } } } } }')).key).toBe('*');
  });
});
