import { Arg, Ctx, Directive, FieldResolver, ID, Mutation, Query, Resolver, Root } from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import type { GraphQLContext } from '../../context.js';
import type { EnrollmentRow, UserRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { Course, type CourseService } from '../courses/index.js';
import { Enrollment } from '../enrollments/index.js';
import { GradebookRow, type GradebookRowData } from '../quizzes/index.js';
import { User, type UserService } from '../users/index.js';
import type { CertificateInfo } from './certificate.repository.js';
import type { CertificateService } from './certificate.service.js';
import { Certificate, CertificateVerification } from './certificate.type.js';

@Resolver(() => Certificate)
export class CertificateResolver {
  constructor(
    private readonly service: CertificateService,
    private readonly courses: CourseService,
    private readonly users: UserService,
  ) {}

  @Query(() => CertificateVerification, {
    description: 'Anyone, throttled per client address: whether a certificate code is valid.',
  })
  verifyCertificate(@Arg('code', () => String) code: string, @Ctx() ctx: GraphQLContext) {
    return this.service.verify(ctx.client, code);
  }

  @Mutation(() => Certificate, { description: 'Admins only.' })
  revokeCertificate(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, { description: '1 to 500 characters.' }) reason: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.service.revoke(ctx, id, reason);
  }

  @FieldResolver(() => ID)
  id(@Root() cert: CertificateInfo) {
    return toGlobalId('Certificate', cert.id);
  }

  @FieldResolver(() => Course)
  course(@Root() cert: CertificateInfo, @Ctx() ctx: GraphQLContext) {
    return this.courses.related(ctx, cert.courseId);
  }

  @FieldResolver(() => User)
  student(@Root() cert: CertificateInfo, @Ctx() ctx: GraphQLContext) {
    return this.users.related(ctx, cert.studentId);
  }

  @FieldResolver(() => String, {
    description:
      "Absolute URL of the PDF: PUBLIC_URL's origin (or this server's address) + /certificates/<code>.pdf, as printed on it.",
  })
  pdfUrl(@Root() cert: CertificateInfo) {
    return this.service.pdfUrl(cert.code);
  }
}

/** Certificates on enrollments, gradebook rows and users: here, because they depend on those. */
@Resolver(() => Enrollment)
export class EnrollmentCertificateResolver {
  constructor(private readonly service: CertificateService) {}

  @FieldResolver(() => Certificate, { nullable: true, complexity: 2 })
  certificate(@Root() enrollment: EnrollmentRow, @Ctx() ctx: GraphQLContext) {
    return this.service.ofPair(ctx, enrollment.courseId, enrollment.studentId);
  }
}

@Resolver(() => GradebookRow)
export class GradebookCertificateResolver {
  constructor(private readonly service: CertificateService) {}

  @FieldResolver(() => Certificate, { nullable: true, complexity: 2 })
  certificate(@Root() row: GradebookRowData, @Ctx() ctx: GraphQLContext) {
    return this.service.ofPair(ctx, row.enrollment.courseId, row.enrollment.studentId);
  }
}

@Resolver(() => User)
export class UserCertificatesResolver {
  constructor(private readonly service: CertificateService) {}

  @FieldResolver(() => [Certificate], {
    nullable: true,
    description: 'Only the user themself and admins may read it.',
    complexity: 5,
  })
  @Directive(auth({ requires: ['ADMIN'], allow: ['SELF'] }))
  certificates(@Root() user: UserRow, @Ctx() ctx: GraphQLContext) {
    return this.service.ofUser(ctx, user.id);
  }
}
