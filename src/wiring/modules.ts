import type { LoginThrottle } from '../auth/login-throttle.js';
import type { RevocationSync } from '../auth/revocation-sync.js';
import type { TokenService } from '../auth/tokens.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { AttemptStore } from '../throttle/attempt-store.js';
import type { Config } from '../config/config.js';
import type { LiveServices } from '../context.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import {
  AccountCommands,
  AccountRecoveryService,
  SessionService,
  type AccountCommitEvents,
} from '../modules/accounts/index.js';
import { CategoryCommands, CategoryService } from '../modules/categories/index.js';
import { CourseCommands, CourseService, instructorsAhead, type CourseCommitEvents } from '../modules/courses/index.js';
import { EnrollmentCommands, EnrollmentService, type EnrollmentCommitEvents } from '../modules/enrollments/index.js';
import {
  CheckoutService,
  EntitlementCommands,
  EntitlementService,
  PurchaseCommands,
  type EntitlementCommitEvents,
} from '../modules/entitlements/index.js';
import {
  LessonCommands,
  LessonEvents,
  LessonLifecycle,
  LessonLive,
  LessonService,
  lessonsAhead,
  type LessonCommitEvents,
} from '../modules/lessons/index.js';
import { NotificationCommands, NotificationLive, NotificationService } from '../modules/notifications/index.js';
import { PlatformService } from '../modules/platform/index.js';
import { SectionCommands, SectionService } from '../modules/sections/index.js';
import { ReviewCommands, ReviewService } from '../modules/reviews/index.js';
import {
  CourseStatsLive,
  ProgressCommands,
  ProgressService,
  type ProgressCommitEvents,
} from '../modules/progress/index.js';
import { UserService } from '../modules/users/index.js';
import { CertificateService, certificatePdfUrl } from '../modules/certificates/index.js';
import {
  lockActiveEnrollment,
  QuizCommands,
  QuizGradedLive,
  QuizService,
  QuizThrottle,
  recordCompletionIfDone,
  recordCompletionsOfCourse,
  type QuizCommitEvents,
} from '../modules/quizzes/index.js';
import type { EventBus } from '../pubsub/event-bus.js';
import { Topics } from '../pubsub/topics.js';
import { AfterCommit } from '../util/after-commit.js';

export interface ModuleDeps {
  readonly config: Config;
  readonly db: Db;
  readonly log: Logger;
  readonly tokens: TokenService;
  readonly throttle: LoginThrottle;
  readonly bus: EventBus;
  /** Publishes on the bus; a failure is logged, never thrown at the caller. */
  readonly publish: (topic: string, payload: object) => Promise<unknown>;
  readonly responseCache: ResponseCache;
  readonly revocationSync: RevocationSync;
  /** Throttle counters (sign-in's store): quiz attempts and certificate checks count here too. */
  readonly attemptStore: AttemptStore;
}

/**
 * The domain objects, each built once, and the after-commit listeners that carry their events
 * to the bus, revocations and the response cache. Resolvers are made from these in src/resolvers.ts.
 */
export function wireModules({
  config,
  db,
  log,
  tokens,
  throttle,
  bus,
  publish,
  responseCache,
  revocationSync,
  attemptStore,
}: ModuleDeps) {
  const users = new UserService(db);
  const lessons = new LessonService(db);
  // What a catalog page loads in the same round trip as the page itself.
  const courses = new CourseService(db, [instructorsAhead(users), lessonsAhead(lessons)]);
  const enrollments = new EnrollmentService();
  const notifications = new NotificationService(db);
  const notificationCommands = new NotificationCommands(db);
  const platform = new PlatformService(db);
  const categories = new CategoryService(db);
  const categoryCommands = new CategoryCommands(db);
  // The one after-commit mechanism: commands emit once their transaction committed; the
  // listeners carry the events to the bus, revocations and the response cache.
  const lessonEvents = new LessonEvents(bus, log);
  const afterCommit = new AfterCommit<
    CourseCommitEvents &
      LessonCommitEvents &
      EnrollmentCommitEvents &
      ProgressCommitEvents &
      AccountCommitEvents &
      QuizCommitEvents &
      EntitlementCommitEvents
  >()
    .on('courseFollowed', ({ userId, courseId }) => void publish(Topics.userFollows, { userId, courseId }))
    // The event as recorded in the write's transaction (with its cursor), published live,
    // fire-and-forget.
    .on('lessonStatusChanged', (event) => lessonEvents.publish(event))
    // Live course statistics recompute (coalesced) when any instance announces activity.
    .on('courseActivity', ({ courseId }) => void publish(Topics.courseActivity(courseId), { courseId }))
    .on('quizAttemptGraded', (e) => void publish(Topics.quizAttemptGraded(e.courseId), e))
    // Logout, password and role changes, revoked sessions: revocation markers on every
    // instance, sockets closed everywhere, and the user's cached responses gone before the
    // mutation answers.
    .on('sessionChanged', async (event) => {
      await revocationSync.revoke(event.revoked);
      // One revoked session closes only its own sockets; everything else, all of the user's.
      const only = event.sessionIds ? { sessionIds: [...event.sessionIds] } : {};
      void publish(Topics.sessions, { userId: event.userId, reason: event.reason, ...only });
      await responseCache.invalidate([`Viewer:${event.userId}`, `User:${event.userId}`]);
    })
    // Grants, revocations and payments (webhooks too, which no GraphQL request carries): the
    // student's own answers, and with an enrollment change the course's counts and rosters.
    .on('courseAccessChanged', ({ courseId, studentId, entitlementId, enrollmentChanged }) =>
      responseCache.invalidate([
        `Viewer:${studentId}`,
        `Entitlement:${entitlementId}`,
        ...(enrollmentChanged ? [`Course:${courseId}`, `User:${studentId}`, 'Enrollment:list'] : []),
      ]),
    );
  const sessions = new SessionService(db, afterCommit);
  const recovery = new AccountRecoveryService({
    db,
    tokens,
    throttle,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    afterCommit,
  });
  const accounts = new AccountCommands({
    db,
    tokens,
    throttle,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    log,
    afterCommit,
  });
  const courseCommands = new CourseCommands(db, afterCommit);
  // A lesson cancelled or deleted may complete the course for students who did the rest.
  const lessonCommands = new LessonCommands(courseCommands, afterCommit, recordCompletionsOfCourse);
  const lifecycle = new LessonLifecycle(lessonCommands, afterCommit);
  const enrollmentCommands = new EnrollmentCommands(db, afterCommit, recordCompletionIfDone);
  const sections = new SectionService();
  const sectionCommands = new SectionCommands(courseCommands, lessonCommands);
  const reviews = new ReviewService();
  const reviewCommands = new ReviewCommands(db);
  const entitlements = new EntitlementService();
  const entitlementCommands = new EntitlementCommands(db, afterCommit);
  const purchases = new PurchaseCommands(db, entitlementCommands, recordCompletionIfDone);
  const checkout = new CheckoutService(config.payments, log.child({ module: 'checkout' }));
  const progress = new ProgressService();
  // A new mark may complete the course: recorded in the mark's own transaction.
  const progressCommands = new ProgressCommands(db, afterCommit, async (tx, courseId, studentId) => {
    const enrollment = await lockActiveEnrollment(tx, courseId, studentId);
    if (enrollment) await recordCompletionIfDone(tx, enrollment);
  });
  const quizzes = new QuizService();
  const quizCommands = new QuizCommands(db, courseCommands, new QuizThrottle(attemptStore), afterCommit);
  const certificates = new CertificateService(db, attemptStore, certificatePdfUrl(config));
  const liveOptions = { maxQueued: config.graphql.subscriptionMaxQueued, log: log.child({ module: 'live' }) };
  const live: LiveServices = {
    lessons: new LessonLive(db, bus, { ...liveOptions, healProbeMs: config.graphql.liveHealProbeMs }),
    notifications: new NotificationLive(db, bus, liveOptions),
    courseStats: new CourseStatsLive(db, bus, liveOptions),
    quizGraded: new QuizGradedLive(db, bus, liveOptions),
  };
  return {
    users,
    courses,
    lessons,
    enrollments,
    notifications,
    platform,
    accounts,
    sessions,
    recovery,
    courseCommands,
    lessonCommands,
    lifecycle,
    enrollmentCommands,
    notificationCommands,
    progress,
    progressCommands,
    quizzes,
    quizCommands,
    certificates,
    live,
    categories,
    categoryCommands,
    sections,
    sectionCommands,
    reviews,
    reviewCommands,
    entitlements,
    entitlementCommands,
    purchases,
    checkout,
  };
}

export type Modules = ReturnType<typeof wireModules>;
