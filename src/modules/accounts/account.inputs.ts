import { z } from 'zod';
import { passwordShapeProblem } from '../../auth/password-policy.js';
import { Field, ID, InputType } from '../../graphql/type-graphql.js';
import { email, optional, singleLine } from '../../graphql/validation.js';
import { Role } from '../users/index.js';
import type { Role as RoleValue } from '../users/user.table.js';

@InputType('RegisterInput')
export class RegisterInput {
  @Field(() => String)
  email!: string;

  @Field(() => String, { description: '10 to 128 characters, not a commonly used password.' })
  password!: string;

  @Field(() => String, { description: '1 to 100 characters after trimming.' })
  displayName!: string;
}

@InputType('ResetPasswordInput')
export class ResetPasswordInput {
  @Field(() => String, { description: 'The token from the reset link.' })
  token!: string;

  @Field(() => String, { description: '10 to 128 characters, not a commonly used password.' })
  newPassword!: string;
}

@InputType('LoginInput')
export class LoginInput {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  password!: string;
}

@InputType('RefreshSessionInput')
export class RefreshSessionInput {
  @Field(() => String)
  refreshToken!: string;
}

@InputType('LogoutInput')
export class LogoutInput {
  @Field(() => String)
  refreshToken!: string;
}

@InputType('UpdateProfileInput')
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  displayName?: string | null;
}

@InputType('ChangePasswordInput')
export class ChangePasswordInput {
  @Field(() => String)
  currentPassword!: string;

  @Field(() => String)
  newPassword!: string;
}

@InputType('SetUserRoleInput')
export class SetUserRoleInput {
  @Field(() => ID)
  userId!: string;

  @Field(() => Role)
  role!: RoleValue;
}

export const registerSchema = z
  .object({ email, displayName: singleLine(1, 100), password: z.string() })
  .superRefine((v, ctx) => {
    // The strength check (zxcvbn, on a worker thread) follows in AccountCommands.register.
    const problem = passwordShapeProblem(v.password, v.email);
    if (problem) ctx.addIssue({ code: 'custom', path: ['password'], message: problem });
  });

export const profileSchema = z.object({ displayName: optional(singleLine(1, 100)) });
