import type { RelationChecks } from '../../auth/auth.directive.js';
import type { UserRow } from '../../db/schema.js';

/** `@auth(allow: [SELF])` on User fields: the viewer is the user (or just signed in as them). */
export const userRelationChecks: RelationChecks = {
  User: { SELF: (user: UserRow, scope) => user.id === scope.viewer.userId || (scope.signedIn?.has(user.id) ?? false) },
};
