import { Field, ID, InputType, ObjectType } from '../../graphql/type-graphql.js';
import { DateTime } from '../../graphql/scalars.js';
import { Role, User } from '../users/index.js';
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

@ObjectType('AuthPayload', { description: 'A signed-in session: a short-lived access token and a rotating refresh token.' })
export class AuthPayload {
  @Field(() => String, { description: 'Send as `Authorization: Bearer <accessToken>`.' })
  accessToken!: string;

  @Field(() => DateTime)
  accessTokenExpiresAt!: Date;

  @Field(() => String, { description: 'Opaque; exchange it with refreshSession. Each use rotates it.' })
  refreshToken!: string;

  @Field(() => User)
  user!: unknown;
}
