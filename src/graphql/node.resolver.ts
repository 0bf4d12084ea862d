import { Arg, Ctx, ID, Query, Resolver } from './type-graphql.js';
import type { GraphQLContext } from '../context.js';
import type { RequestScope } from '../request-scope.js';
import { AppError } from '../errors/app-error.js';
import { fromGlobalId, type NodeType } from './global-id.js';
import { Node, type Typed } from './relay.types.js';

const MAX_NODES = 100;

/** Anything `node(id:)` can resolve: it finds one object of its type that the viewer may see. */
interface NodeFinder {
  findVisible(scope: RequestScope, id: string): Promise<object | null>;
}

export type NodeFinders = Partial<Record<NodeType, NodeFinder>>;

@Resolver()
export class NodeResolver {
  constructor(private readonly finders: NodeFinders) {}

  @Query(() => Node, { nullable: true, description: 'Any object by its global ID; null when missing or hidden.' })
  node(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.find(ctx, id);
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: `Up to ${MAX_NODES} objects, in the order asked; null for each missing or hidden one.`,
    // Priced like a page of that many objects.
    complexity: ({ args, childComplexity }) =>
      1 + Math.max(1, Array.isArray(args.ids) ? args.ids.length : MAX_NODES) * Math.max(1, childComplexity),
  })
  nodes(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: GraphQLContext) {
    if (ids.length > MAX_NODES) throw AppError.badInput({ ids: `must list at most ${MAX_NODES} IDs` });
    return Promise.all(ids.map((id) => this.find(ctx, id)));
  }

  private async find(scope: RequestScope, id: string): Promise<(object & Typed) | null> {
    const parsed = fromGlobalId(id);
    const finder = parsed ? this.finders[parsed.type] : undefined;
    if (!parsed || !finder) return null;
    const found = await finder.findVisible(scope, id);
    return found ? { ...found, __typename: parsed.type } : null;
  }
}
