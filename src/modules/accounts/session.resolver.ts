import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { AuthSessionRow, UserRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { User } from '../users/index.js';
import type { SessionService } from './session.service.js';
import { Session } from './session.type.js';

@Resolver(() => Session)
export class SessionResolver {
  constructor(private readonly sessions: SessionService) {}

  @Mutation(() => Boolean, {
    description: "Ends one of the viewer's own sessions: its refresh token stops working and its sockets close.",
  })
  revokeSession(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.sessions.revoke(ctx, id);
  }

  @FieldResolver(() => ID)
  id(@Root() session: AuthSessionRow) {
    return toGlobalId('Session', session.id);
  }

  @FieldResolver(() => Boolean, { description: "True for the session the request's access token belongs to." })
  current(@Root() session: AuthSessionRow, @Ctx() ctx: GraphQLContext) {
    return session.id === ctx.viewer.sessionId;
  }
}

/** `User.sessions`: here, because accounts depend on users. */
@Resolver(() => User)
export class UserSessionsResolver {
  constructor(private readonly service: SessionService) {}

  @FieldResolver(() => [Session], {
    nullable: true,
    description: "The user's signed-in sessions, newest first. Only the user themself may read it.",
    complexity: 5,
  })
  @Directive(auth({ allow: ['SELF'] }))
  sessions(@Root() user: UserRow) {
    return this.service.listOf(user.id);
  }
}
