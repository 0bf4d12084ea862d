import { Directive, Field, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import type { EntitlementSource as EntitlementSourceValue } from './entitlement.table.js';

const EntitlementSource = { PURCHASE: 'PURCHASE', GRANT: 'GRANT' } as const;
registerEnumType(EntitlementSource, {
  name: 'EntitlementSource',
  valuesConfig: {
    PURCHASE: { description: 'A completed payment.' },
    GRANT: { description: "Given by the course's instructor or an admin." },
  },
});

@ObjectType('Entitlement', { implements: Node, description: 'The right to enroll in a paid course.' })
// Whose it is decides who sees it: never shared between viewers. Cached like an enrollment:
// grants, revocations and payments invalidate the student's entries (`Viewer:<id>`).
@Directive(cacheControl({ maxAge: 30, scope: 'PRIVATE' }))
export class Entitlement extends Node {
  @Field(() => EntitlementSource)
  source!: EntitlementSourceValue;

  @Field(() => DateTime)
  grantedAt!: Date;

  @Field(() => DateTime, {
    nullable: true,
    description:
      'Set when revoked (refund or a revoking instructor/admin); the active enrollment is cancelled with it.',
  })
  revokedAt!: Date | null;
}

@ObjectType('Checkout', { description: 'A payment page to send the student to.' })
export class Checkout {
  @Field(() => String)
  url!: string;

  @Field(() => DateTime)
  expiresAt!: Date;
}
