import { Field, ObjectType } from '../../graphql/type-graphql.js';
import { DateTime } from '../../graphql/scalars.js';
import { User } from '../users/index.js';

@ObjectType('AuthPayload', {
  description: 'A signed-in session: a short-lived access token and a rotating refresh token.',
})
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
