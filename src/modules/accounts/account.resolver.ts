import { getArgumentValues, Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import { Arg, Ctx, Directive, Info, Mutation, Resolver } from '../../graphql/type-graphql.js';
import { User } from '../users/index.js';
import {
  ChangePasswordInput,
  LoginInput,
  LogoutInput,
  RefreshSessionInput,
  RegisterInput,
  SetUserRoleInput,
  UpdateProfileInput,
} from './account.inputs.js';
import type { AccountCommands, AuthResult } from './account.commands.js';
import { AuthPayload } from './account.type.js';

@Resolver()
export class AccountResolver {
  constructor(private readonly accounts: AccountCommands) {}

  @Mutation(() => AuthPayload, { description: 'Creates a STUDENT account and signs it in.' })
  async register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext) {
    return signedIn(ctx, await this.accounts.register(ctx, input, ctx.client));
  }

  @Mutation(() => AuthPayload, {
    description: 'Throttled per account and client IP; every login field of a request counts.',
  })
  async login(
    @Arg('input', () => LoginInput) input: LoginInput,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ) {
    return signedIn(ctx, await this.accounts.login(ctx, input, ctx.client, () => loginEmailsOf(info)));
  }

  @Mutation(() => AuthPayload, {
    description: 'Rotates the refresh token: the old one stops working; reusing it revokes the whole session.',
  })
  async refreshSession(
    @Arg('input', () => RefreshSessionInput) input: RefreshSessionInput,
    @Ctx() ctx: GraphQLContext,
  ) {
    return signedIn(ctx, await this.accounts.refresh(ctx, input));
  }

  @Mutation(() => Boolean, { description: "Ends the refresh token's session." })
  logout(@Arg('input', () => LogoutInput) input: LogoutInput, @Ctx() ctx: GraphQLContext) {
    return this.accounts.logout(ctx, input);
  }

  @Mutation(() => User)
  updateProfile(@Arg('input', () => UpdateProfileInput) input: UpdateProfileInput, @Ctx() ctx: GraphQLContext) {
    return this.accounts.updateProfile(ctx, input);
  }

  @Mutation(() => Boolean, { description: 'Also signs out every other session of the user.' })
  changePassword(@Arg('input', () => ChangePasswordInput) input: ChangePasswordInput, @Ctx() ctx: GraphQLContext) {
    return this.accounts.changePassword(ctx, input, ctx.client);
  }

  @Mutation(() => User, { description: 'Admins only.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  setUserRole(@Arg('input', () => SetUserRoleInput) input: SetUserRoleInput, @Ctx() ctx: GraphQLContext) {
    return this.accounts.setUserRole(ctx, input);
  }
}

/** The payload's user may read their own guarded fields (email, enrollments) in this response. */
function signedIn(ctx: GraphQLContext, result: AuthResult): AuthResult {
  ctx.signedIn?.add(result.user.id);
  return result;
}

/** The email of every `login` field at the root of the operation (aliases and fragments included). */
function loginEmailsOf(info: GraphQLResolveInfo): string[] {
  const field = info.parentType.getFields().login!;
  const emails: string[] = [];
  const visit = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD && s.name.value === 'login') {
        const args = getArgumentValues(field, s, info.variableValues) as { input?: { email?: unknown } };
        emails.push(String(args.input?.email ?? ''));
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        visit(s.selectionSet);
      } else if (s.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = info.fragments[s.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  visit(info.operation.selectionSet);
  return emails.length ? emails : [''];
}
