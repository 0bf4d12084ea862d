import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';

const INTROSPECTION_OFF_MESSAGE =
  'Introspection is off on this server. Set GRAPHQL_INTROSPECTION=true (or EXPLORER=on, which also serves the explorer) to enable it.';

/**
 * Apollo's rule for `introspection: false` (one error per `__schema` or `__type` field), with a
 * message that names our setting: Apollo's tells the operator to pass an option to a
 * constructor they never see. Used on HTTP and WebSocket alike when introspection is off.
 */
export function NoIntrospection(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(
          new GraphQLError(INTROSPECTION_OFF_MESSAGE, {
            nodes: node,
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
        );
      }
    },
  };
}
