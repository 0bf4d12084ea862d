import { parse } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { CachePolicyCalculator } from '../../src/cache/cache-control.js';
import { buildAppSchema } from '../../src/schema.js';

describe(CachePolicyCalculator.name, () => {
  let calc: CachePolicyCalculator;
  beforeAll(async () => {
    calc = new CachePolicyCalculator(await buildAppSchema());
  });
  const policy = (q: string) => calc.policyOf(parse(q), undefined);

  it('lets public catalog reads be cached for a minute', () => {
    expect(
      policy(
        `{ courses(first: 5) { edges { node { title instructor { displayName } lessons { edges { node { title } } } } } pageInfo { hasNextPage } } }`,
      ),
    ).toEqual({
      maxAge: 60,
      scope: 'PUBLIC',
    });
  });

  it('makes @auth fields and viewer-specific fields private', () => {
    expect(policy(`query($id: ID!) { lesson(id: $id) { title content } }`).scope).toBe('PRIVATE');
    expect(policy(`{ courses { edges { node { viewerEnrollment { status } } } } }`)).toEqual({
      maxAge: 30,
      scope: 'PRIVATE',
    });
    expect(policy(`{ me { id } }`)).toEqual({ maxAge: 30, scope: 'PRIVATE' });
  });

  it("makes the viewer's entitlement private, cacheable like an enrollment", () => {
    expect(policy(`{ courses { edges { node { title viewerEntitlement { source } } } } }`)).toEqual({
      maxAge: 30,
      scope: 'PRIVATE',
    });
    expect(policy(`query($id: ID!) { course(id: $id) { viewerEntitlement { id } } }`).scope).toBe('PRIVATE');
  });

  it('makes the learner-journey fields that depend on the viewer private, cacheable as long as their parent', () => {
    for (const q of [
      `query($id: ID!) { course(id: $id) { title viewerCan { enroll update } } }`,
      `query($id: ID!) { course(id: $id) { stats { activeEnrollments lessonsByStatus { status count } } } }`,
      `query($id: ID!) { lesson(id: $id) { title viewerCompletedAt } }`,
      `query($id: ID!) { lesson(id: $id) { viewerCan { markCompleted } } }`,
      `query($id: ID!) { enrollment(id: $id) { progress { percent } } }`,
      `query($id: ID!) { user(id: $id) { schedule { edges { node { title } } } } }`,
    ]) {
      expect(policy(q).scope, q).toBe('PRIVATE');
    }
    expect(policy(`query($id: ID!) { course(id: $id) { viewerCan { enroll } stats { activeEnrollments } } }`)).toEqual({
      maxAge: 60,
      scope: 'PRIVATE',
    });
  });

  it('never caches notifications, unhinted root fields, interfaces with uncacheable members, or mutations', () => {
    expect(policy(`{ me { unreadNotificationCount } }`).maxAge).toBe(0);
    expect(policy(`query($id: ID!) { node(id: $id) { id } }`).maxAge).toBe(0);
    expect(policy(`{ platformStats { users } }`).maxAge).toBe(0);
    expect(policy(`{ __schema { queryType { name } } }`).maxAge).toBe(0);
    expect(policy(`mutation { markNotificationsRead(ids: []) }`).maxAge).toBe(0);
  });

  it('follows fragments', () => {
    expect(
      policy(`{ courses { ...C } } fragment C on CourseConnection { edges { node { viewerEnrollment { id } } } }`)
        .scope,
    ).toBe('PRIVATE');
  });
});
