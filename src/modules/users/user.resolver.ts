import { Arg, Args, Ctx, Directive, FieldResolver, ID, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import type { UserService } from './user.service.js';
import { User, UserConnection, UserFilter } from './user.type.js';

@Resolver(() => User)
export class UserResolver {
  constructor(private readonly usersService: UserService) {}

  @Query(() => User, { nullable: true, description: 'The signed-in user, or null when anonymous.' })
  @Directive(cacheControl({ maxAge: 30, scope: 'PRIVATE' }))
  me(@Ctx() ctx: GraphQLContext) {
    return this.usersService.me(ctx);
  }

  @Query(() => User, { nullable: true })
  user(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.usersService.findVisible(ctx, id);
  }

  @Query(() => UserConnection, { description: 'Admins only.', complexity: connectionComplexity })
  @Directive(auth({ requires: ['ADMIN'] }))
  users(
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Arg('filter', () => UserFilter, { nullable: true }) filter: UserFilter | null,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.usersService.list(ctx, args, filter);
  }

  @FieldResolver(() => ID)
  id(@Root() user: UserRow) {
    return toGlobalId('User', user.id);
  }
}
