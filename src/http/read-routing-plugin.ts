import type { OperationDefinitionNode } from 'graphql';
import type { GraphQLContext } from '../context.js';
import { currentReadRoute } from '../db/replicas/read-route.js';

/**
 * Tells the database layer what the request is once Apollo knows (db/replicas/router.ts): a
 * query's reads may use a replica, anything else stays on the primary; and whose writes it
 * must see (and records). Does nothing without read replicas (no route is set up then).
 * Called from the operation plugin's `didResolveOperation` (apollo-plugins.ts).
 */
export function noteReadRoute(operation: OperationDefinitionNode | undefined, ctx: GraphQLContext): void {
  const route = currentReadRoute();
  if (!route) return;
  route.userId = ctx.viewer.userId ?? undefined;
  route.eligible = operation?.operation === 'query';
}
