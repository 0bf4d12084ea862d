/** Every pub/sub topic, in one place. Payloads are plain JSON (ids, ISO dates). */
export const Topics = {
  /** Lesson status changes (and creations) of one course. */
  lessonStatus: (courseId: string) => `lesson.status.${courseId}`,
  /** The same events for all courses: only admins following everything subscribe to it. */
  lessonStatusAll: 'lesson.status.all',
  /** Something a course's statistics count changed (enrollments, completion marks, lessons). */
  courseActivity: (courseId: string) => `course.${courseId}.activity`,
  /** A quiz attempt of the course was graded (payload: QuizAttemptGradedEvent). */
  quizAttemptGraded: (courseId: string) => `course.${courseId}.quiz-graded`,
  /**
   * A user started following a course (enrolled, or created it): their open subscriptions add
   * it. One topic for all users (payload: UserFollowsEvent): each instance listens once and
   * hands it to the user's subscriptions, not one channel per subscribed user.
   */
  userFollows: 'user.follows',
  /** New notifications of one user (payload: NotificationAddedEvent). */
  userNotifications: (userId: string) => `user.${userId}.notifications`,
  /** An instance could not invalidate these cache tags: all bypass the cache until done. */
  cacheInvalidationFailed: 'cache.invalidation-failed',
  /** A user's sessions ended or their role changed: their sockets are closed everywhere. */
  sessions: 'auth.sessions',
  /** Sessions revoked and role changes (payload: RevocationEvent): every instance refuses the tokens. */
  revocations: 'auth.revocations',
} as const;

export interface UserFollowsEvent {
  userId: string;
  courseId: string;
}

export interface SessionsEvent {
  userId: string;
  reason: 'LOGOUT' | 'ROLE_CHANGED' | 'PASSWORD_CHANGED' | 'SESSION_REVOKED' | 'PASSWORD_RESET';
  /** Only these sessions' sockets close (revokeSession); absent: every socket of the user. */
  sessionIds?: string[];
}

export interface NotificationAddedEvent {
  notificationId: string;
}

export interface QuizAttemptGradedEvent {
  attemptId: string;
  courseId: string;
}
