import { parse, type FieldNode, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANONYMOUS } from '../../src/auth/viewer.js';
import type { Db } from '../../src/db/client.js';
import { parsePage } from '../../src/graphql/pagination.js';
import { createLoaders } from '../../src/loaders.js';
import { catalogPageQueries, courseSort } from '../../src/modules/courses/course.repository.js';
import { lessonListColumns } from '../../src/modules/lessons/lesson.repository.js';
import { LessonService } from '../../src/modules/lessons/lesson.service.js';
import { UserService } from '../../src/modules/users/user.service.js';
import { buildAppSchema } from '../../src/schema.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * What a catalog page loads ahead (its instructors, its courses' lesson pages) is answered by
 * the fields' services at once, not through a loader and a promise per course; anything not
 * loaded ahead (another page size, a course without lessons, another user) loads as before.
 */
describe('catalog page children loaded ahead', () => {
  let t: TestApp;
  let db: Db;
  let teacher: { id: string };
  let student: { id: string };
  let withLessons: { id: string };
  let empty: { id: string };

  beforeAll(async () => {
    t = await startTestApp({ CACHE_ENABLED: 'false' });
    db = t.app.database.db;
    const make = t.make;
    teacher = await make.user({ role: 'INSTRUCTOR' });
    student = await make.user({ role: 'STUDENT' });
    empty = await make.course(teacher.id, { title: 'Empty' });
    withLessons = await make.course(teacher.id, { title: 'Full' });
    for (let p = 0; p < 3; p++) await make.lesson(withLessons.id, { position: p, title: `L${p}` });
  });
  afterAll(() => t?.close());

  it('answers primed instructors and lesson pages synchronously, the rest as before', async () => {
    const scope = { viewer: ANONYMOUS, loaders: createLoaders(db, ANONYMOUS) };
    const spec = courseSort();
    const page = catalogPageQueries(db, ANONYMOUS, {}, spec, parsePage(spec, { first: 20 }))!;
    expect(page).not.toBeNull();

    const users = new UserService(db);
    await users.primeRelated(scope, {
      ids: page.instructorIds,
      shape: `instructors|${page.shape}`,
      values: page.values,
    });
    const instructor = users.related(scope, teacher.id);
    expect(instructor).not.toBeInstanceOf(Promise);
    expect(instructor).toMatchObject({ id: teacher.id, role: 'INSTRUCTOR' });
    const other = users.related(scope, student.id);
    expect(other).toBeInstanceOf(Promise);
    expect(await other).toMatchObject({ id: student.id });

    const op = parse('{ courses { edges { node { lessons(first: 2) { edges { node { title } } } } } } }')
      .definitions[0] as OperationDefinitionNode;
    const courses = op.selectionSet.selections[0] as FieldNode;
    const node = ((courses.selectionSet!.selections[0] as FieldNode).selectionSet!.selections[0] as FieldNode)
      .selectionSet!.selections[0] as FieldNode;
    const info = { schema: await buildAppSchema(), variableValues: {}, fragments: {} } as unknown as GraphQLResolveInfo;
    const lessons = new LessonService(db);
    await lessons.primeCoursePages(scope, page, node, info);
    const columns = lessonListColumns.of({ fieldNodes: [node], fragments: {} });

    const primed = lessons.ofCourse(scope, withLessons.id, { first: 2 }, null, columns);
    expect(primed).not.toBeInstanceOf(Promise);
    const titles = (c: Awaited<typeof primed>) => c.edges.map((e) => e.node.title);
    expect(titles(await primed)).toEqual(['L0', 'L1']);
    expect((await primed).pageInfo.hasNextPage).toBe(true);
    expect(await (await primed).totalCount).toBe(3);

    // Not loaded ahead: a course without lessons, other arguments.
    const none = lessons.ofCourse(scope, empty.id, { first: 2 }, null, columns);
    expect(none).toBeInstanceOf(Promise);
    expect((await none).edges).toEqual([]);
    const three = lessons.ofCourse(scope, withLessons.id, { first: 3 }, null, columns);
    expect(three).toBeInstanceOf(Promise);
    expect(titles(await three)).toEqual(['L0', 'L1', 'L2']);
  });
});
