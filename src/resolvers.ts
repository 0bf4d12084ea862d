// Every resolver class, in one place: the schema is built from this list, and the container
// below hands type-graphql the instance of each. Module barrels do not export resolvers, so
// a module that imports another never pulls in its resolvers (and their imports) with it.
import type { ContainerType } from './graphql/type-graphql.js';
import { NodeResolver } from './graphql/node.resolver.js';
import { AccountRecoveryResolver } from './modules/accounts/account-recovery.resolver.js';
import { AccountResolver } from './modules/accounts/account.resolver.js';
import { SessionResolver, UserSessionsResolver } from './modules/accounts/session.resolver.js';
import { CategoryResolver } from './modules/categories/category.resolver.js';
import { CourseCategoryResolver } from './modules/categories/course-category.resolver.js';
import { CourseResolver } from './modules/courses/course.resolver.js';
import { CourseReviewsResolver, ReviewResolver } from './modules/reviews/review.resolver.js';
import { CourseEntitlementResolver, EntitlementResolver } from './modules/entitlements/entitlement.resolver.js';
import { CourseSectionsResolver, LessonSectionResolver, SectionResolver } from './modules/sections/section.resolver.js';
import { UserCoursesResolver } from './modules/courses/user-courses.resolver.js';
import { CourseEnrollmentsResolver } from './modules/enrollments/course-enrollments.resolver.js';
import { EnrollmentResolver } from './modules/enrollments/enrollment.resolver.js';
import { UserEnrollmentsResolver } from './modules/enrollments/user-enrollments.resolver.js';
import { CourseLessonsResolver } from './modules/lessons/course-lessons.resolver.js';
import { LessonStatusChangeResolver } from './modules/lessons/lesson-status-change.resolver.js';
import { LessonResolver } from './modules/lessons/lesson.resolver.js';
import { UserScheduleResolver } from './modules/lessons/user-schedule.resolver.js';
import { NotificationResolver, UserNotificationsResolver } from './modules/notifications/notification.resolver.js';
import { CourseProgressResolver, CourseStatsSubscriptionResolver } from './modules/progress/course-stats.resolver.js';
import { EnrollmentProgressResolver, LessonProgressResolver } from './modules/progress/progress.resolver.js';
import { PlatformResolver } from './modules/platform/platform.resolver.js';
import { UserResolver } from './modules/users/user.resolver.js';
import {
  CertificateResolver,
  EnrollmentCertificateResolver,
  GradebookCertificateResolver,
  UserCertificatesResolver,
} from './modules/certificates/certificate.resolver.js';
import {
  CourseGradebookResolver,
  CourseQuizStatsResolver,
  GradebookRowResolver,
  ProgressCompletionResolver,
} from './modules/quizzes/gradebook.resolver.js';
import { LessonQuizzesResolver, QuizAttemptResolver, QuizResolver } from './modules/quizzes/quiz.resolver.js';
import type { Modules } from './wiring/modules.js';

export const resolverClasses = [
  NodeResolver,
  UserResolver,
  AccountResolver,
  AccountRecoveryResolver,
  SessionResolver,
  UserSessionsResolver,
  CourseResolver,
  UserCoursesResolver,
  LessonResolver,
  CourseLessonsResolver,
  LessonStatusChangeResolver,
  UserScheduleResolver,
  EnrollmentResolver,
  CourseEnrollmentsResolver,
  UserEnrollmentsResolver,
  LessonProgressResolver,
  EnrollmentProgressResolver,
  CourseProgressResolver,
  CourseStatsSubscriptionResolver,
  NotificationResolver,
  UserNotificationsResolver,
  PlatformResolver,
  QuizResolver,
  QuizAttemptResolver,
  LessonQuizzesResolver,
  ProgressCompletionResolver,
  CourseGradebookResolver,
  GradebookRowResolver,
  CourseQuizStatsResolver,
  CertificateResolver,
  EnrollmentCertificateResolver,
  GradebookCertificateResolver,
  UserCertificatesResolver,
  CategoryResolver,
  CourseCategoryResolver,
  SectionResolver,
  CourseSectionsResolver,
  LessonSectionResolver,
  ReviewResolver,
  CourseReviewsResolver,
  EntitlementResolver,
  CourseEntitlementResolver,
] as const;

type ResolverClass = (typeof resolverClasses)[number];

/** One instance of every resolver, made from the wired modules, as type-graphql's container. */
export function resolverContainer(m: Modules): ContainerType {
  const instances = new Map<ResolverClass, object>([
    [
      NodeResolver,
      new NodeResolver({
        User: m.users,
        Course: m.courses,
        Lesson: m.lessons,
        Enrollment: m.enrollments,
        Notification: m.notifications,
        Quiz: { findVisible: (scope, id) => m.quizzes.findVisible(scope, id) },
        QuizAttempt: { findVisible: (scope, id) => m.quizzes.findVisibleAttempt(scope, id) },
        Certificate: m.certificates,
        Category: m.categories,
        Section: m.sections,
        Review: m.reviews,
        Entitlement: m.entitlements,
      }),
    ],
    [UserResolver, new UserResolver(m.users)],
    [AccountResolver, new AccountResolver(m.accounts)],
    [AccountRecoveryResolver, new AccountRecoveryResolver(m.recovery)],
    [SessionResolver, new SessionResolver(m.sessions)],
    [UserSessionsResolver, new UserSessionsResolver(m.sessions)],
    [CourseResolver, new CourseResolver(m.courses, m.users, m.courseCommands)],
    [UserCoursesResolver, new UserCoursesResolver(m.courses)],
    [LessonResolver, new LessonResolver(m.lessons, m.courses, m.lessonCommands, m.lifecycle)],
    [CourseLessonsResolver, new CourseLessonsResolver(m.lessons)],
    [LessonStatusChangeResolver, new LessonStatusChangeResolver()],
    [UserScheduleResolver, new UserScheduleResolver(m.lessons)],
    [EnrollmentResolver, new EnrollmentResolver(m.enrollments, m.users, m.courses, m.enrollmentCommands)],
    [CourseEnrollmentsResolver, new CourseEnrollmentsResolver(m.enrollments)],
    [UserEnrollmentsResolver, new UserEnrollmentsResolver(m.enrollments)],
    [LessonProgressResolver, new LessonProgressResolver(m.progress, m.progressCommands)],
    [EnrollmentProgressResolver, new EnrollmentProgressResolver(m.progress)],
    [CourseProgressResolver, new CourseProgressResolver(m.progress)],
    [CourseStatsSubscriptionResolver, new CourseStatsSubscriptionResolver()],
    [NotificationResolver, new NotificationResolver(m.notificationCommands)],
    [UserNotificationsResolver, new UserNotificationsResolver(m.notifications)],
    [PlatformResolver, new PlatformResolver(m.platform)],
    [QuizResolver, new QuizResolver(m.quizzes, m.quizCommands)],
    [QuizAttemptResolver, new QuizAttemptResolver(m.quizzes, m.quizCommands, m.users)],
    [LessonQuizzesResolver, new LessonQuizzesResolver(m.quizzes)],
    [ProgressCompletionResolver, new ProgressCompletionResolver()],
    [CourseGradebookResolver, new CourseGradebookResolver(m.quizzes)],
    [GradebookRowResolver, new GradebookRowResolver(m.quizzes, m.progress)],
    [CourseQuizStatsResolver, new CourseQuizStatsResolver()],
    [CertificateResolver, new CertificateResolver(m.certificates, m.courses, m.users)],
    [EnrollmentCertificateResolver, new EnrollmentCertificateResolver(m.certificates)],
    [GradebookCertificateResolver, new GradebookCertificateResolver(m.certificates)],
    [UserCertificatesResolver, new UserCertificatesResolver(m.certificates)],
    [CategoryResolver, new CategoryResolver(m.categories, m.categoryCommands, m.courses)],
    [CourseCategoryResolver, new CourseCategoryResolver(m.categories)],
    [SectionResolver, new SectionResolver(m.sections, m.courses, m.sectionCommands)],
    [CourseSectionsResolver, new CourseSectionsResolver(m.sections)],
    [LessonSectionResolver, new LessonSectionResolver(m.sections)],
    [ReviewResolver, new ReviewResolver(m.reviewCommands, m.courses, m.users)],
    [CourseReviewsResolver, new CourseReviewsResolver(m.reviews)],
    [EntitlementResolver, new EntitlementResolver(m.entitlementCommands, m.checkout, m.courses, m.users)],
    [CourseEntitlementResolver, new CourseEntitlementResolver(m.entitlements)],
  ]);
  return {
    get(cls: ResolverClass) {
      const instance = instances.get(cls);
      if (!instance) throw new Error(`no instance registered for ${cls.name}`);
      return instance;
    },
  };
}
