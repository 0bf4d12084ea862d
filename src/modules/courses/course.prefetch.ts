import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { RequestScope } from '../../request-scope.js';
import { nodeFieldsSelected } from '../../graphql/lookahead.js';
import type { UserService } from '../users/index.js';
import type { CoursePageQueries } from './course.repository.js';

export type { CoursePageQueries } from './course.repository.js';

/**
 * A field of `Course` whose data a whole page of courses can load ahead: in the same round trip
 * as the page itself, since it depends only on which courses the page holds (`page.ids`, a
 * statement), not on their rows. Registered by the module that owns the field (lessons depend
 * on courses, so the lessons module registers `lessons`; see wiring/modules.ts).
 */
export interface CoursePageChild {
  /** The field of `Course` this child serves. */
  readonly field: string;
  /**
   * Loads what `node` (a selection of `field`) will need for the courses of `page`, and primes
   * the request's loaders with it, so the field's resolver finds it there. Only what the
   * resolver would load itself, under the same loader key; courses it found nothing for are
   * left to the resolver (which then loads as usual). Undefined: nothing to do ahead.
   */
  ahead(
    scope: RequestScope,
    page: CoursePageQueries,
    node: FieldNode,
    info: GraphQLResolveInfo,
  ): Promise<void> | undefined;
}

/** The children of `Course` a catalog page loads ahead, read off each query once. */
export class CoursePageAhead {
  private readonly byField: ReadonlyMap<string, CoursePageChild>;
  private readonly names: ReadonlySet<string>;
  /** Per connection field node of a (cached, parsed) document: what its nodes select. */
  private readonly plans = new WeakMap<FieldNode, readonly FieldNode[] | null>();

  constructor(children: readonly CoursePageChild[]) {
    this.byField = new Map(children.map((c) => [c.field, c]));
    this.names = new Set(this.byField.keys());
  }

  /**
   * Starts every child's loads for the page; resolves when all have primed (a child that
   * fails is ignored: its resolver loads, and reports, on its own).
   */
  start(scope: RequestScope, page: CoursePageQueries, info: GraphQLResolveInfo): Promise<unknown> | undefined {
    if (this.names.size === 0) return undefined;
    const first = info.fieldNodes[0]!;
    let plan = this.plans.get(first);
    if (plan === undefined) this.plans.set(first, (plan = nodeFieldsSelected(info, this.names)));
    if (!plan?.length) return undefined;
    const started: Promise<void>[] = [];
    for (const node of plan) {
      const loading = this.byField.get(node.name.value)!.ahead(scope, page, node, info);
      if (loading) started.push(loading.catch(() => {}));
    }
    return started.length ? Promise.all(started) : undefined;
  }
}

/** `Course.instructor` (`UserService.related`): the page's instructors, primed by id. */
export function instructorsAhead(users: Pick<UserService, 'primeRelated'>): CoursePageChild {
  return {
    field: 'instructor',
    ahead: (scope, page) =>
      users.primeRelated(scope, { ids: page.instructorIds, shape: `instructors|${page.shape}`, values: page.values }),
  };
}
