import { Arg, Ctx, Directive, Mutation, Resolver } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import { User } from '../users/index.js';
import type { AccountRecoveryService } from './account-recovery.service.js';
import { ResetPasswordInput } from './account.inputs.js';
import { AuthPayload } from './account.type.js';

@Resolver()
export class AccountRecoveryResolver {
  constructor(private readonly recovery: AccountRecoveryService) {}

  @Mutation(() => Boolean, {
    description:
      'Always true, whether or not the address has an account (no enumeration). When it has one, a single-use token valid for 30 minutes is emailed. ' +
      'At most 3 usable links at a time: a further request sends nothing (and still answers true). Throttled per client address.',
  })
  requestPasswordReset(@Arg('email', () => String) email: string, @Ctx() ctx: GraphQLContext) {
    return this.recovery.requestPasswordReset(ctx, email, ctx.client);
  }

  @Mutation(() => AuthPayload, {
    description:
      'Sets the new password, ends every session of the user, and signs in afresh. A used, expired or unknown token is BAD_USER_INPUT.',
  })
  async resetPassword(@Arg('input', () => ResetPasswordInput) input: ResetPasswordInput, @Ctx() ctx: GraphQLContext) {
    const result = await this.recovery.resetPassword(ctx, input, ctx.client);
    ctx.signedIn?.add(result.user.id); // the payload's user may read their own fields
    return result;
  }

  @Mutation(() => Boolean, {
    description: "Signed-in users: emails a single-use verification link for the viewer's address.",
  })
  @Directive(auth({}))
  requestEmailVerification(@Ctx() ctx: GraphQLContext) {
    return this.recovery.requestEmailVerification(ctx);
  }

  @Mutation(() => User, { description: 'Sets emailVerifiedAt. A used, expired or unknown token is BAD_USER_INPUT.' })
  verifyEmail(@Arg('token', () => String) token: string, @Ctx() ctx: GraphQLContext) {
    return this.recovery.verifyEmail(ctx, token);
  }
}
