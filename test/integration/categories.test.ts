import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { uuidOf } from '../../src/graphql/global-id.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const CREATE = `mutation($input: CreateCategoryInput!) { createCategory(input: $input) { id slug name description } }`;
const UPDATE = `mutation($input: UpdateCategoryInput!) { updateCategory(input: $input) { id slug name description } }`;
const DELETE = `mutation($id: ID!) { deleteCategory(id: $id) }`;
const CATEGORIES = `{ categories { id name slug publishedCourseCount courses(first: 10) { totalCount edges { node { title status } } } } }`;
const BY_SLUG = `query($slug: String!) { categoryBySlug(slug: $slug) { name publishedCourseCount } }`;

describe('categories', () => {
  let t: TestApp;
  let admin: UserRow;
  let instructor: UserRow;
  let adminToken: string;
  let instructorToken: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.make.user({ role: 'ADMIN' });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    adminToken = await t.tokenFor(admin);
    instructorToken = await t.tokenFor(instructor);
  });
  afterAll(() => t?.close());

  const create = async (input: Record<string, unknown>) => t.gql(CREATE, { input }, { token: adminToken });

  it('lets admins create categories, deriving the slug from the name', async () => {
    const res = await create({ name: '  Crème Cooking  ', description: 'Pans' });
    expect(res.data.createCategory).toMatchObject({
      name: 'Crème Cooking',
      slug: 'creme-cooking',
      description: 'Pans',
    });
  });

  it('refuses everyone but admins', async () => {
    const anonymous = await t.gql(CREATE, { input: { name: 'Nope' } });
    const asInstructor = await t.gql(CREATE, { input: { name: 'Nope' } }, { token: instructorToken });
    expect(codesOf(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect(codesOf(asInstructor)).toEqual(['FORBIDDEN']);
  });

  it('keeps slugs unique and names unique case-insensitively, naming the field', async () => {
    await create({ name: 'Music', slug: 'music' });
    const sameName = await create({ name: 'MUSIC', slug: 'music-2' });
    const sameSlug = await create({ name: 'Songs', slug: 'music' });
    expect(codesOf(sameName)).toEqual(['CONFLICT']);
    expect(sameName.errors![0]!.extensions!.field).toBe('name');
    expect(codesOf(sameSlug)).toEqual(['CONFLICT']);
    expect(sameSlug.errors![0]!.extensions!.field).toBe('slug');
  });

  it('answers BAD_USER_INPUT naming each invalid field', async () => {
    const res = await create({ name: ' ', slug: 'Not A Slug', description: 'x'.repeat(2_001) });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    expect(Object.keys(res.errors![0]!.extensions!.fieldErrors).sort()).toEqual(['description', 'name', 'slug']);
  });

  it('lists courses with the viewer’s visibility and counts only PUBLISHED ones', async () => {
    const cat = (await create({ name: 'Gardening' })).data.createCategory;
    const uuid = uuidOf('Category', cat.id)!;
    await t.make.course(instructor.id, { title: 'Roses', status: 'PUBLISHED', categoryId: uuid });
    await t.make.course(instructor.id, { title: 'Secret draft', status: 'DRAFT', categoryId: uuid });
    const anonymous = (await t.gql(BY_SLUG, { slug: 'gardening' })).data.categoryBySlug;
    expect(anonymous).toEqual({ name: 'Gardening', publishedCourseCount: 1 });
    const list = async (token?: string) =>
      (await t.gql(CATEGORIES, {}, { token })).data.categories.find((c: { slug: string }) => c.slug === 'gardening');
    const publicView = await list();
    expect(publicView.courses.totalCount).toBe(1);
    expect(publicView.courses.edges.map((e: any) => e.node.title)).toEqual(['Roses']);
    const ownerView = await list(instructorToken);
    expect(ownerView.courses.edges.map((e: any) => e.node.title).sort()).toEqual(['Roses', 'Secret draft']);
  });

  it('puts courses in and out of categories, filters by category, and deleting one leaves its courses', async () => {
    const cat = (await create({ name: 'Woodwork' })).data.createCategory;
    const created = await t.gql(
      `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id category { name } } }`,
      { input: { title: 'Dovetails', categoryId: cat.id } },
      { token: instructorToken },
    );
    expect(created.data.createCourse.category).toEqual({ name: 'Woodwork' });
    const courseId = created.data.createCourse.id;
    await t.gql(`mutation($id: ID!) { publishCourse(id: $id) { id } }`, { id: courseId }, { token: instructorToken });
    const filtered = await t.gql(
      `query($c: ID!) { courses(filter: { categoryId: $c }) { edges { node { title } } } }`,
      {
        c: cat.id,
      },
    );
    expect(filtered.data.courses.edges).toEqual([{ node: { title: 'Dovetails' } }]);

    const unknown = await t.gql(
      `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { id } }`,
      { input: { id: courseId, categoryId: gid('Category', '00000000-0000-4000-8000-000000000000') } },
      { token: instructorToken },
    );
    expect(codesOf(unknown)).toEqual(['BAD_USER_INPUT']);
    expect(unknown.errors![0]!.extensions!.fieldErrors).toHaveProperty('categoryId');

    expect((await t.gql(DELETE, { id: cat.id }, { token: adminToken })).data.deleteCategory).toBe(cat.id);
    const after = await t.gql(`query($id: ID!) { course(id: $id) { title category { name } } }`, { id: courseId });
    expect(after.data.course).toEqual({ title: 'Dovetails', category: null });
  });

  it('removes a course from its category with categoryId: null', async () => {
    const cat = (await create({ name: 'Pottery' })).data.createCategory;
    const c = await t.gql(
      `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`,
      { input: { title: 'Wheel', categoryId: cat.id } },
      { token: instructorToken },
    );
    const UPDATE_COURSE = `mutation($input: UpdateCourseInput!) { updateCourse(input: $input) { title category { name } } }`;
    const id = c.data.createCourse.id;
    const kept = await t.gql(UPDATE_COURSE, { input: { id, title: 'Wheel 2' } }, { token: instructorToken });
    expect(kept.data.updateCourse).toEqual({ title: 'Wheel 2', category: { name: 'Pottery' } });
    const removed = await t.gql(UPDATE_COURSE, { input: { id, categoryId: null } }, { token: instructorToken });
    expect(removed.data.updateCourse.category).toBeNull();
  });

  it('is never stale through the response cache', async () => {
    const read = async () => {
      const res = await t.gql(CATEGORIES);
      return { names: res.data.categories.map((c: { name: string }) => c.name), cache: res.headers.get('x-cache') };
    };
    await read();
    expect((await read()).cache).toBe('HIT');
    const made = (await create({ name: 'Astronomy' })).data.createCategory;
    expect((await read()).names).toContain('Astronomy');
    await read();
    await t.gql(UPDATE, { input: { id: made.id, name: 'Stargazing' } }, { token: adminToken });
    const renamed = await read();
    expect(renamed.names).toContain('Stargazing');
    expect(renamed.names).not.toContain('Astronomy');

    const count = async () => (await t.gql(BY_SLUG, { slug: 'astronomy' })).data.categoryBySlug.publishedCourseCount;
    expect(await count()).toBe(0);
    expect(await count()).toBe(0);
    const course = await t.gql(
      `mutation($input: CreateCourseInput!) { createCourse(input: $input) { id } }`,
      { input: { title: 'Telescopes', categoryId: made.id } },
      { token: instructorToken },
    );
    await t.gql(
      `mutation($id: ID!) { publishCourse(id: $id) { id } }`,
      { id: course.data.createCourse.id },
      {
        token: instructorToken,
      },
    );
    expect(await count()).toBe(1);
  });
});
