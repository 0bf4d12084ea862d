import { Field, ObjectType } from '../../graphql/type-graphql.js';
import { Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';

@ObjectType('Certificate', {
  implements: Node,
  description: 'A verifiable record that a student completed a course.',
})
export class Certificate extends Node {
  @Field(() => String, { description: 'Public verification code, printed on the PDF; 24 characters, unguessable.' })
  code!: string;

  @Field(() => DateTime)
  issuedAt!: Date;

  @Field(() => DateTime, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType('CertificateVerification', { description: 'What anyone may learn from a certificate code.' })
export class CertificateVerification {
  @Field(() => Boolean, { description: 'true when the code names a certificate that is not revoked.' })
  valid!: boolean;

  @Field(() => String, { nullable: true })
  courseTitle!: string | null;

  @Field(() => String, { nullable: true })
  studentName!: string | null;

  @Field(() => DateTime, { nullable: true })
  issuedAt!: Date | null;

  @Field(() => DateTime, { nullable: true })
  revokedAt!: Date | null;
}
