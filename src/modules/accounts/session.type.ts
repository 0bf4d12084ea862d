import { Field, ObjectType } from '../../graphql/type-graphql.js';
import { DateTime } from '../../graphql/scalars.js';

/** A signed-in session (one sign-in on one device); `id` is a global ID of type Session. */
@ObjectType('Session')
export class Session {
  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime, {
    nullable: true,
    description: 'Updated when the session refreshes its token, not on every request.',
  })
  lastUsedAt!: Date | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;
}
