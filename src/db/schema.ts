// The schema barrel: drizzle-kit reads it to generate migrations, and the Drizzle client
// is typed by it. Every module's table file is listed here and nowhere else.
export * from '../modules/users/user.table.js';
export * from '../modules/courses/course.table.js';
export * from '../modules/lessons/lesson.table.js';
export * from '../modules/lessons/lesson-event.table.js';
export * from '../modules/enrollments/enrollment.table.js';
export * from '../modules/progress/progress.table.js';
export * from '../modules/accounts/session.table.js';
export * from '../modules/accounts/account-token.table.js';
export * from '../modules/notifications/notification.table.js';
export * from '../modules/platform/platform.table.js';
export * from '../modules/quizzes/quiz.table.js';
export * from '../modules/certificates/certificate.table.js';
export * from '../outbox/outbox.table.js';
export * from '../idempotency/idempotency.table.js';
export * from '../modules/categories/category.table.js';
export * from '../modules/sections/section.table.js';
export * from '../modules/reviews/review.table.js';
export * from '../modules/entitlements/entitlement.table.js';
