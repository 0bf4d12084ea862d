import { getNamedType, GraphQLError, isIntrospectionType, type ASTVisitor, type ValidationContext } from 'graphql';

export const INTROSPECTION_OFF_MESSAGE =
  'Introspection is off on this server. Set GRAPHQL_INTROSPECTION=true (or EXPLORER=on, which also serves the explorer) to enable it.';

/**
 * graphql's NoSchemaIntrospectionCustomRule, with a message that names our setting: Apollo's
 * own (`introspection: false`) tells the operator to pass an option to a constructor they
 * never see. Used on HTTP and WebSocket alike when introspection is off.
 */
export function NoIntrospection(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) {
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
