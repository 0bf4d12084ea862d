// Every resolver class, in one place: the schema is built from this list. Module barrels do
// not export resolvers, so a module that imports another never pulls in its resolvers (and
// their imports) with it.
import { NodeResolver } from './graphql/node.resolver.js';
import { AccountResolver } from './modules/accounts/account.resolver.js';
import { CourseResolver } from './modules/courses/course.resolver.js';
import { UserCoursesResolver } from './modules/courses/user-courses.resolver.js';
import { CourseEnrollmentsResolver } from './modules/enrollments/course-enrollments.resolver.js';
import { EnrollmentResolver } from './modules/enrollments/enrollment.resolver.js';
import { UserEnrollmentsResolver } from './modules/enrollments/user-enrollments.resolver.js';
import { CourseLessonsResolver } from './modules/lessons/course-lessons.resolver.js';
import { LessonStatusChangeResolver } from './modules/lessons/lesson-status-change.resolver.js';
import { LessonResolver } from './modules/lessons/lesson.resolver.js';
import { NotificationResolver, UserNotificationsResolver } from './modules/notifications/notification.resolver.js';
import { PlatformResolver } from './modules/platform/platform.resolver.js';
import { UserResolver } from './modules/users/user.resolver.js';

export const resolverClasses = [
  NodeResolver,
  UserResolver,
  AccountResolver,
  CourseResolver,
  UserCoursesResolver,
  LessonResolver,
  CourseLessonsResolver,
  LessonStatusChangeResolver,
  EnrollmentResolver,
  CourseEnrollmentsResolver,
  UserEnrollmentsResolver,
  NotificationResolver,
  UserNotificationsResolver,
  PlatformResolver,
] as const;
