import type { LoginThrottle } from '../auth/login-throttle.js';
import type { RevocationSync } from '../auth/revocation-sync.js';
import type { TokenService } from '../auth/tokens.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { Config } from '../config/config.js';
import type { LiveServices } from '../context.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logging/logger.js';
import {
  AccountRecoveryService,
  AccountService,
  SessionService,
  type SessionListener,
} from '../modules/accounts/index.js';
import { CourseCommands, CourseService } from '../modules/courses/index.js';
import { EnrollmentCommands, EnrollmentService } from '../modules/enrollments/index.js';
import { LessonCommands, LessonEvents, LessonLifecycle, LessonLive, LessonService } from '../modules/lessons/index.js';
import { NotificationLive, NotificationService } from '../modules/notifications/index.js';
import { PlatformService } from '../modules/platform/index.js';
import { CourseStatsLive, ProgressCommands, ProgressService } from '../modules/progress/index.js';
import { UserService } from '../modules/users/index.js';
import type { EventBus } from '../pubsub/event-bus.js';
import { Topics } from '../pubsub/topics.js';

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
}

/**
 * The domain objects, each built once, and the closures that carry their events to the bus
 * and the response cache. Resolvers are made from these in src/resolvers.ts.
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
}: ModuleDeps) {
  const users = new UserService(db);
  const courses = new CourseService(db);
  const lessons = new LessonService(db);
  const enrollments = new EnrollmentService();
  const notifications = new NotificationService(db);
  const platform = new PlatformService(db);
  const follow = (userId: string, courseId: string) => void publish(Topics.userFollows(userId), { courseId });
  // Live course statistics recompute (coalesced) when any instance announces activity.
  const courseActivity = (courseId: string) => void publish(Topics.courseActivity(courseId), { courseId });
  // Logout, password and role changes, revoked sessions: revocation markers on every instance,
  // sockets closed everywhere, and the user's cached responses gone before the mutation answers.
  const onSessionChange: SessionListener = async (event) => {
    await revocationSync.revoke(event.revoked);
    // One revoked session closes only its own sockets; everything else, all of the user's.
    const only = event.reason === 'SESSION_REVOKED' ? { sessionIds: [...(event.revoked.sessionIds ?? [])] } : {};
    void publish(Topics.sessions, { userId: event.userId, reason: event.reason, ...only });
    await responseCache.invalidate([`Viewer:${event.userId}`, `User:${event.userId}`]);
  };
  const sessions = new SessionService(db, onSessionChange);
  const recovery = new AccountRecoveryService({
    db,
    tokens,
    throttle,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    onSessionChange,
  });
  const accounts = new AccountService({
    db,
    tokens,
    throttle,
    refreshTokenTtlDays: config.auth.refreshTokenTtlDays,
    log,
    onSessionChange,
  });
  const lessonEvents = new LessonEvents(bus, log);
  const courseCommands = new CourseCommands(db, follow);
  const lessonCommands = new LessonCommands(courseCommands, {
    created: (event) => void lessonEvents.publish(event),
    changed: courseActivity,
  });
  const lifecycle = new LessonLifecycle(lessonCommands, lessonEvents);
  const enrollmentCommands = new EnrollmentCommands(db, follow, courseActivity);
  const progress = new ProgressService();
  const progressCommands = new ProgressCommands(db, courseActivity);
  const liveOptions = { maxQueued: config.graphql.subscriptionMaxQueued, log: log.child({ module: 'live' }) };
  const live: LiveServices = {
    lessons: new LessonLive(db, bus, liveOptions),
    notifications: new NotificationLive(db, bus, liveOptions),
    courseStats: new CourseStatsLive(db, bus, liveOptions),
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
    progress,
    progressCommands,
    live,
  };
}

export type Modules = ReturnType<typeof wireModules>;
