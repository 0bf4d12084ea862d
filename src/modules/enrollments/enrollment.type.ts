import { Directive, Field, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { connectionOf, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import type { EnrollmentStatus as EnrollmentStatusValue } from './enrollment.table.js';

const EnrollmentStatus = { ACTIVE: 'ACTIVE', CANCELLED: 'CANCELLED' } as const;
registerEnumType(EnrollmentStatus, { name: 'EnrollmentStatus' });

@ObjectType('Enrollment', { implements: Node })
@Directive(cacheControl({ maxAge: 30, scope: 'PRIVATE' }))
export class Enrollment extends Node {
  @Field(() => EnrollmentStatus)
  status!: EnrollmentStatusValue;

  @Field(() => DateTime)
  enrolledAt!: Date;

  @Field(() => DateTime, { nullable: true })
  cancelledAt!: Date | null;
}

export const EnrollmentConnection = connectionOf('Enrollment', Enrollment);
