import { Directive, Field, InputType, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { auth } from '../../auth/auth.directive.js';
import { connectionOf, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import type { Role as RoleValue } from './user.table.js';

export const Role = { ADMIN: 'ADMIN', INSTRUCTOR: 'INSTRUCTOR', STUDENT: 'STUDENT' } as const;
registerEnumType(Role, { name: 'Role' });

@ObjectType('User', { implements: Node })
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class User extends Node {
  @Field(() => String)
  displayName!: string;

  @Field(() => Role)
  role!: RoleValue;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => String, { nullable: true, description: 'Only the user themself and admins may read it.' })
  @Directive(auth({ requires: ['ADMIN'], allow: ['SELF'] }))
  email?: string | null;

  @Field(() => DateTime, {
    nullable: true,
    description: 'When the email address was verified. Only the user themself and admins may read it.',
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['SELF'] }))
  emailVerifiedAt?: Date | null;
}

export const UserConnection = connectionOf('User', User);

@InputType('UserFilter')
export class UserFilter {
  @Field(() => Role, { nullable: true })
  role?: RoleValue | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive match on display name or email.' })
  search?: string | null;
}
