import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lessons, sections, type CourseRow, type UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CREATE_SECTION = `mutation($input: CreateSectionInput!) { createSection(input: $input) { id title position } }`;
const UPDATE_SECTION = `mutation($input: UpdateSectionInput!) { updateSection(input: $input) { id title position } }`;
const DELETE_SECTION = `mutation($id: ID!) { deleteSection(id: $id) }`;
const CREATE_LESSON = `mutation($input: CreateLessonInput!) { createLesson(input: $input) { id title position section { id } } }`;
const MOVE = `mutation($input: MoveLessonInput!) { moveLesson(input: $input) { id position section { title } } }`;
const CURRICULUM = `query($id: ID!) { course(id: $id) {
  lessons(first: 100) { edges { node { title position section { title } } } }
  sections { title position lessonCount lessons(first: 50) { edges { node { title position } } } }
} }`;

describe('sections and curriculum order', () => {
  let t: TestApp;
  let instructor: UserRow;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    token = await t.tokenFor(instructor);
  });
  afterAll(() => t?.close());

  const newCourse = () => t.make.course(instructor.id);
  const section = async (course: CourseRow, title: string, position?: number) =>
    (await t.gql(CREATE_SECTION, { input: { courseId: gid('Course', course.id), title, position } }, { token })).data
      .createSection;
  const lesson = async (course: CourseRow, title: string, sectionId?: string, position?: number) =>
    (
      await t.gql(
        CREATE_LESSON,
        { input: { courseId: gid('Course', course.id), title, sectionId, position } },
        { token },
      )
    ).data.createLesson;
  const curriculum = async (course: CourseRow) =>
    (await t.gql(CURRICULUM, { id: gid('Course', course.id) })).data.course;

  /** Positions, read from the database: contiguous from 0 in the sections and in every group. */
  async function assertContiguous(courseId: string) {
    const secs = await t.app.database.db
      .select()
      .from(sections)
      .where(eq(sections.courseId, courseId))
      .orderBy(asc(sections.position));
    expect(secs.map((s) => s.position)).toEqual(secs.map((_, i) => i));
    const rows = await t.app.database.db.select().from(lessons).where(eq(lessons.courseId, courseId));
    const groups = new Map<string, number[]>();
    for (const l of rows) {
      const key = l.sectionId ?? 'none';
      groups.set(key, [...(groups.get(key) ?? []), l.position]);
      const s = secs.find((x) => x.id === l.sectionId);
      expect(l.sectionRank).toBe(s ? s.position + 1 : 0);
    }
    for (const positions of groups.values()) {
      expect(positions.sort((a, b) => a - b)).toEqual(positions.map((_, i) => i));
    }
    return rows;
  }

  it('orders sections and lessons, no-section lessons first, positions contiguous after every write', async () => {
    const course = await newCourse();
    const b = await section(course, 'B');
    const a = await section(course, 'A', 0);
    expect([b.position, a.position]).toEqual([0, 0]); // A went first: B moved down to 1
    await lesson(course, 'b1', b.id);
    await lesson(course, 'a2', a.id);
    await lesson(course, 'a1', a.id, 0);
    await lesson(course, 'intro');
    await lesson(course, 'far', a.id, 999); // past the end: last
    const c = await curriculum(course);
    expect(c.lessons.edges.map((e: any) => e.node.title)).toEqual(['intro', 'a1', 'a2', 'far', 'b1']);
    expect(c.sections.map((s: any) => [s.title, s.position, s.lessonCount])).toEqual([
      ['A', 0, 3],
      ['B', 1, 1],
    ]);
    expect(c.sections[0].lessons.edges.map((e: any) => [e.node.title, e.node.position])).toEqual([
      ['a1', 0],
      ['a2', 1],
      ['far', 2],
    ]);
    // Moving section B first reorders the course's lessons with it.
    await t.gql(UPDATE_SECTION, { input: { id: b.id, position: 0 } }, { token });
    const moved = await curriculum(course);
    expect(moved.lessons.edges.map((e: any) => e.node.title)).toEqual(['intro', 'b1', 'a1', 'a2', 'far']);
    await assertContiguous(course.id);
  });

  it('moves lessons between sections and the no-section group, closing gaps', async () => {
    const course = await newCourse();
    const s = await section(course, 'S');
    const l0 = await lesson(course, 'l0', s.id);
    await lesson(course, 'l1', s.id);
    await lesson(course, 'free');
    const res = await t.gql(MOVE, { input: { lessonId: l0.id, sectionId: null, position: 0 } }, { token });
    expect(res.data.moveLesson).toMatchObject({ position: 0, section: null });
    const c = await curriculum(course);
    expect(c.lessons.edges.map((e: any) => [e.node.title, e.node.position])).toEqual([
      ['l0', 0],
      ['free', 1],
      ['l1', 0],
    ]);
    await assertContiguous(course.id);
    const deleted = await t.gql(`mutation($id: ID!) { deleteLesson(id: $id) }`, { id: l0.id }, { token });
    expect(deleted.errors).toBeUndefined();
    await assertContiguous(course.id);
  });

  it('refuses to delete a section that holds lessons, and deletes an empty one closing the gap', async () => {
    const course = await newCourse();
    const s0 = await section(course, 'S0');
    const s1 = await section(course, 'S1');
    await section(course, 'S2');
    const l = await lesson(course, 'x', s1.id);
    expect(codesOf(await t.gql(DELETE_SECTION, { id: s1.id }, { token }))).toEqual(['CONFLICT']);
    await t.gql(MOVE, { input: { lessonId: l.id, sectionId: s0.id } }, { token });
    expect((await t.gql(DELETE_SECTION, { id: s1.id }, { token })).data.deleteSection).toBe(s1.id);
    const c = await curriculum(course);
    expect(c.sections.map((s: any) => [s.title, s.position])).toEqual([
      ['S0', 0],
      ['S2', 1],
    ]);
    await assertContiguous(course.id);
  });

  it('validates input, naming the field, and refuses sections of another course', async () => {
    const course = await newCourse();
    const other = await newCourse();
    const foreign = await section(other, 'Elsewhere');
    const l = await lesson(course, 'l');
    const bad = await t.gql(
      CREATE_SECTION,
      { input: { courseId: gid('Course', course.id), title: '', position: -1 } },
      {
        token,
      },
    );
    expect(codesOf(bad)).toEqual(['BAD_USER_INPUT']);
    expect(Object.keys(bad.errors![0]!.extensions!.fieldErrors).sort()).toEqual(['position', 'title']);
    const cross = await t.gql(MOVE, { input: { lessonId: l.id, sectionId: foreign.id } }, { token });
    expect(codesOf(cross)).toEqual(['BAD_USER_INPUT']);
    expect(cross.errors![0]!.extensions!.fieldErrors).toHaveProperty('sectionId');
    const junk = await t.gql(MOVE, { input: { lessonId: l.id, sectionId: 'nope' } }, { token });
    expect(junk.errors![0]!.extensions!.fieldErrors).toHaveProperty('sectionId');
  });

  it('lets only the course’s instructor and admins change sections', async () => {
    const course = await newCourse();
    const s = await section(course, 'Mine');
    const stranger = await t.tokenFor(await t.make.user({ role: 'INSTRUCTOR' }));
    const student = await t.tokenFor(await t.make.user());
    const admin = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
    const input = { id: s.id, title: 'Theirs' };
    expect(codesOf(await t.gql(UPDATE_SECTION, { input }))).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(await t.gql(UPDATE_SECTION, { input }, { token: stranger }))).toEqual(['FORBIDDEN']);
    expect(codesOf(await t.gql(UPDATE_SECTION, { input }, { token: student }))).toEqual(['FORBIDDEN']);
    expect((await t.gql(UPDATE_SECTION, { input }, { token: admin })).data.updateSection.title).toBe('Theirs');
    // Sections of a draft are as hidden as the draft.
    const draft = await t.make.course(instructor.id, { status: 'DRAFT' });
    const hidden = await section(draft, 'Hidden');
    const node = await t.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: hidden.id }, { token: student });
    expect(node.data.node).toBeNull();
  });

  it('keeps a valid order when two instructors move lessons of one course at the same moment', async () => {
    const course = await newCourse();
    const admin = await t.tokenFor(await t.make.user({ role: 'ADMIN' }));
    const secs = [await section(course, 'S0'), await section(course, 'S1'), await section(course, 'S2')];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await lesson(course, `L${i}`, secs[i % 3]!.id)).id);
    const moves = [];
    for (let i = 0; i < 24; i++) {
      const target = i % 4 === 3 ? null : secs[(i * 7) % 3]!.id;
      moves.push(
        t.gql(
          MOVE,
          { input: { lessonId: ids[(i * 5) % ids.length], sectionId: target, position: i % 3 } },
          {
            token: i % 2 ? token : admin,
          },
        ),
      );
      if (i % 6 === 0)
        moves.push(t.gql(UPDATE_SECTION, { input: { id: secs[i % 3]!.id, position: (i + 1) % 3 } }, { token }));
    }
    const results = await Promise.all(moves);
    for (const r of results) expect(r.errors).toBeUndefined();
    const rows = await assertContiguous(course.id);
    expect(rows.map((r) => r.id).sort()).toEqual(ids.map((id) => uuidOf('Lesson', id)!).sort());
    const listed = await curriculum(course);
    expect(listed.lessons.edges).toHaveLength(12);
  });

  it('serves fresh curricula through the response cache after moves and section changes', async () => {
    const course = await newCourse();
    const s = await section(course, 'Part 1');
    const l = await lesson(course, 'Only');
    const read = async () => {
      const res = await t.gql(CURRICULUM, { id: gid('Course', course.id) });
      return { data: res.data.course, cache: res.headers.get('x-cache') };
    };
    await read();
    expect((await read()).cache).toBe('HIT');
    await t.gql(MOVE, { input: { lessonId: l.id, sectionId: s.id } }, { token });
    expect((await read()).data.lessons.edges[0].node.section).toEqual({ title: 'Part 1' });
    await read();
    await t.gql(UPDATE_SECTION, { input: { id: s.id, title: 'Part One' } }, { token });
    expect((await read()).data.sections[0].title).toBe('Part One');
    await read();
    await section(course, 'Part 2');
    expect((await read()).data.sections).toHaveLength(2);
  });
});
