// The module's public surface (types, services, loaders): other modules and the composition
// root import from here. Resolvers are listed in src/resolvers.ts, not exported here.
export * from './enrollment.service.js';
export * from './enrollment.type.js';
export * from './enrollment.loader.js';
export * from './enrollment.commands.js';
export * from './enrollment.policy.js';
// For paid access (entitlements/): enrolling and cancelling inside its own transactions; for
// the gradebook (quizzes/): pages of a course's active enrollments.
export {
  cancelActiveEnrollment,
  enrollmentSort,
  enrollmentsPageByCourses,
  findActiveEntitlement,
  insertEnrollment,
  lockCourseStatus,
  reactivateLatestCancelled,
} from './enrollment.repository.js';
