import { randomBytes } from 'node:crypto';
import type { Db } from '../../src/db/client.js';
import {
  courses,
  enrollments,
  entitlements,
  lessons,
  users,
  type CourseRow,
  type EnrollmentRow,
  type EntitlementRow,
  type NewEntitlementRow,
  type LessonRow,
  type NewCourseRow,
  type NewEnrollmentRow,
  type NewLessonRow,
  type NewUserRow,
  type UserRow,
} from '../../src/db/schema.js';
import { toGlobalId } from '../../src/graphql/global-id.js';

/** A hash that verifies nothing; factories' users sign in through tokens, not passwords. */
const NO_PASSWORD = '$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

const unique = () => randomBytes(5).toString('hex');

/** Tiny factories that write straight to the database, for arranging test data. */
export function makeFactories(db: Db) {
  return {
    async user(overrides: Partial<NewUserRow> = {}): Promise<UserRow> {
      const u = unique();
      const [row] = await db
        .insert(users)
        .values({
          email: `user-${u}@example.test`,
          displayName: `User ${u}`,
          passwordHash: NO_PASSWORD,
          role: 'STUDENT',
          ...overrides,
        })
        .returning();
      return row!;
    },
    async course(instructorId: string, overrides: Partial<NewCourseRow> = {}): Promise<CourseRow> {
      const u = unique();
      const [row] = await db
        .insert(courses)
        .values({ instructorId, slug: `course-${u}`, title: `Course ${u}`, status: 'PUBLISHED', ...overrides })
        .returning();
      return row!;
    },
    async lesson(courseId: string, overrides: Partial<NewLessonRow> = {}): Promise<LessonRow> {
      const [row] = await db
        .insert(lessons)
        .values({ courseId, title: `Lesson ${unique()}`, position: 0, content: 'Secret lesson notes', ...overrides })
        .returning();
      return row!;
    },
    async enrollment(
      studentId: string,
      courseId: string,
      overrides: Partial<NewEnrollmentRow> = {},
    ): Promise<EnrollmentRow> {
      const [row] = await db
        .insert(enrollments)
        .values({ studentId, courseId, ...overrides })
        .returning();
      return row!;
    },
    /** An active entitlement (a grant) of the student to the course. */
    async entitlement(
      studentId: string,
      courseId: string,
      overrides: Partial<NewEntitlementRow> = {},
    ): Promise<EntitlementRow> {
      const [row] = await db
        .insert(entitlements)
        .values({ studentId, courseId, source: 'GRANT', ...overrides })
        .returning();
      return row!;
    },
  };
}
export type Factories = ReturnType<typeof makeFactories>;

export const gid = toGlobalId;
