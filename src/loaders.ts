// The per-request loader set, composed from each module's factory. The live services build
// fresh loaders for every subscription event, so they import this file; it therefore imports
// the loader files themselves, not the module barrels (which export the live services).
import type { Viewer } from './auth/viewer.js';
import type { Db } from './db/client.js';
import { createCategoryLoaders } from './modules/categories/category.loader.js';
import { createCourseLoaders } from './modules/courses/course.loader.js';
import { createEnrollmentLoaders } from './modules/enrollments/enrollment.loader.js';
import { createEntitlementLoaders } from './modules/entitlements/entitlement.loader.js';
import { createLessonLoaders } from './modules/lessons/lesson.loader.js';
import { createProgressLoaders } from './modules/progress/progress.loader.js';
import { createQuizLoaders } from './modules/quizzes/quiz.loader.js';
import { createCertificateLoaders } from './modules/certificates/certificate.loader.js';
import { createSectionLoaders } from './modules/sections/section.loader.js';
import { createReviewLoaders } from './modules/reviews/review.loader.js';
import { createUserLoaders } from './modules/users/user.loader.js';

interface ModuleLoaders {
  users: ReturnType<typeof createUserLoaders>;
  courses: ReturnType<typeof createCourseLoaders>;
  lessons: ReturnType<typeof createLessonLoaders>;
  enrollments: ReturnType<typeof createEnrollmentLoaders>;
  progress: ReturnType<typeof createProgressLoaders>;
  quizzes: ReturnType<typeof createQuizLoaders>;
  certificates: ReturnType<typeof createCertificateLoaders>;
  categories: ReturnType<typeof createCategoryLoaders>;
  sections: ReturnType<typeof createSectionLoaders>;
  reviews: ReturnType<typeof createReviewLoaders>;
  entitlements: ReturnType<typeof createEntitlementLoaders>;
}
export type Loaders = Readonly<ModuleLoaders>;

/**
 * Per-request loaders, one factory per module. Created fresh for every HTTP request and
 * every subscription event, so a cached row never outlives the request that read it and
 * visibility (which depends on the viewer) is never shared between viewers. Each module's
 * loaders are made on first use: a subscription event usually touches one or two modules,
 * and thousands of subscribers receive each event.
 */
export function createLoaders(db: Db, viewer: Viewer, shared?: SharedLoaders): Loaders {
  return new LazyLoaders(db, viewer, shared);
}

/**
 * The getters live on the prototype: an object literal with eleven accessors is slow to build,
 * and one is built for every request (it showed in the profile of `{ __typename }`).
 */
class LazyLoaders implements Loaders {
  private made: Partial<ModuleLoaders> = {};

  constructor(
    private readonly db: Db,
    private readonly viewer: Viewer,
    private readonly shared: SharedLoaders | undefined,
  ) {}

  get users() {
    return (this.made.users ??= createUserLoaders(this.db, this.viewer, this.shared?.users));
  }
  get courses() {
    return (this.made.courses ??= createCourseLoaders(this.db, this.viewer, this.shared?.courses));
  }
  get lessons() {
    return (this.made.lessons ??= createLessonLoaders(this.db, this.viewer, this.shared?.lessons));
  }
  get enrollments() {
    return (this.made.enrollments ??= createEnrollmentLoaders(this.db, this.viewer));
  }
  get progress() {
    return (this.made.progress ??= createProgressLoaders(this.db, this.viewer));
  }
  get quizzes() {
    return (this.made.quizzes ??= createQuizLoaders(this.db, this.viewer));
  }
  get certificates() {
    return (this.made.certificates ??= createCertificateLoaders(this.db));
  }
  get categories() {
    return (this.made.categories ??= createCategoryLoaders(this.db));
  }
  get sections() {
    return (this.made.sections ??= createSectionLoaders(this.db, this.viewer));
  }
  get reviews() {
    return (this.made.reviews ??= createReviewLoaders(this.db, this.viewer));
  }
  get entitlements() {
    return (this.made.entitlements ??= createEntitlementLoaders(this.db));
  }
}

const NOBODY: Viewer = { userId: null, role: null, sessionId: null, tokenExpiresAt: null };

/**
 * The loaders that do not depend on who is asking (rows by primary key). One set per
 * subscription event is shared by every subscriber of that event on this instance, so a
 * status change fans out to thousands of sockets with a handful of queries, still fresh.
 */
export function createSharedLoaders(db: Db) {
  return {
    users: createUserLoaders(db, NOBODY).byId,
    courses: createCourseLoaders(db, NOBODY).rowForPolicy,
    lessons: createLessonLoaders(db, NOBODY).byId,
  };
}
export type SharedLoaders = ReturnType<typeof createSharedLoaders>;
