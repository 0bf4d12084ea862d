import { randomUUID } from 'node:crypto';
import { requireRole, requireSignedIn } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import { isForeignKeyViolation, isUniqueViolation, type Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import { type CourseRow, type CourseStatus, type NewCourseRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parseInput } from '../../graphql/validation.js';
import {
  assertSameInput,
  inputFingerprint,
  rememberEntity,
  rememberedEntity,
  type IdempotencyKey,
} from '../../idempotency/idempotency.repository.js';
import type { Emits } from '../../util/after-commit.js';
import {
  createCourseSchema,
  slugify,
  updateCourseSchema,
  type CreateCourseInput,
  type UpdateCourseInput,
} from './course.inputs.js';
import { assertCanManageCourse, courseDeleteBlocker } from './course.policy.js';
import {
  countActiveEnrollments,
  deleteCourse,
  findCoursesByIds,
  insertCourse,
  insertCourseWithFreeSlug,
  lockCourse,
  updateCourse,
} from './course.repository.js';

/** What course writes announce after they commit (see util/after-commit.ts). */
export interface CourseCommitEvents {
  /** A user now follows a course (they teach it, or enrolled): live subscriptions add it. */
  courseFollowed: { userId: string; courseId: string };
}

function categoryUuid(id: string): string {
  const uuid = uuidOf('Category', id);
  if (!uuid) throw AppError.badInput({ categoryId: 'is not a valid Category ID' });
  return uuid;
}

function unknownCategory(): AppError {
  return AppError.badInput({ categoryId: 'names no category' });
}

/** Which statuses each course transition may start from. */
const TRANSITIONS: Record<'PUBLISHED' | 'ARCHIVED', CourseStatus[]> = {
  PUBLISHED: ['DRAFT', 'ARCHIVED'],
  ARCHIVED: ['DRAFT', 'PUBLISHED'],
};

/**
 * Writes to courses. Every write runs in one transaction that first locks the course row, so
 * checks (ownership, active enrollments) and the change cannot be interleaved with another
 * write. Authorization: instructors and admins create; the course's instructor or an admin
 * changes it (see course.policy.ts).
 */
export class CourseCommands {
  constructor(
    private readonly db: Db,
    private readonly afterCommit: Emits<CourseCommitEvents>,
  ) {}

  /**
   * With a `clientMutationId`, the key is remembered in the creating transaction: a retry
   * (same viewer, same id, within a day) returns the course the first attempt made, even when
   * that attempt's answer was lost or was a 503 after the COMMIT went through.
   */
  async create(scope: RequestScope, input: CreateCourseInput): Promise<CourseRow> {
    const viewer = requireRole(scope.viewer, 'INSTRUCTOR', 'ADMIN');
    const v = parseInput(createCourseSchema, input);
    const values = {
      instructorId: viewer.userId,
      title: v.title,
      description: v.description ?? '',
      priceCents: v.priceCents ?? 0,
      status: 'DRAFT' as const,
      categoryId: v.categoryId === undefined ? null : categoryUuid(v.categoryId),
    };
    if (v.clientMutationId) {
      const key = {
        userId: viewer.userId,
        operation: 'createCourse',
        key: v.clientMutationId,
        fingerprint: inputFingerprint({ ...values, slug: v.slug ?? null }),
      };
      const { course, replayed } = await this.createOnce(scope, key, values, v.slug);
      if (replayed) return course;
      touched(scope, 'Course:list');
      await this.afterCommit.emit('courseFollowed', { userId: viewer.userId, courseId: course.id });
      return course;
    }
    const course = await transaction(this.db, scope, (tx) => this.insert(tx, values, v.slug));
    touched(scope, 'Course:list');
    await this.afterCommit.emit('courseFollowed', { userId: viewer.userId, courseId: course.id });
    return course;
  }

  /**
   * Claims the key first, for the id the course will get: a concurrent attempt with the same
   * key waits on the key's row until this one commits, then finds it taken and returns the
   * course it names.
   */
  private createOnce(
    scope: RequestScope,
    key: IdempotencyKey,
    values: Omit<NewCourseRow, 'slug'>,
    slug: string | undefined,
  ): Promise<{ course: CourseRow; replayed: boolean }> {
    return transaction(this.db, scope, async (tx) => {
      const id = randomUUID();
      if (await rememberEntity(tx, key, id))
        return { course: await this.insert(tx, { ...values, id }, slug), replayed: false };
      const earlier = await rememberedEntity(tx, key);
      // The role was checked before (a new attempt's authorization); the input must match.
      if (earlier) assertSameInput(key, earlier, () => true);
      const [row] = earlier ? await findCoursesByIds(tx, [earlier.entityId]) : [];
      if (!row)
        throw AppError.conflict('clientMutationId was used for a course that has since been deleted', {
          clientMutationId: key.key,
        });
      return { course: row, replayed: true };
    });
  }

  private async insert(db: Db, values: Omit<NewCourseRow, 'slug'>, slug: string | undefined): Promise<CourseRow> {
    try {
      if (!slug) return await insertCourseWithFreeSlug(db, values, slugify(values.title));
      return await insertCourse(db, { ...values, slug });
    } catch (err) {
      if (isUniqueViolation(err, 'courses_slug_key'))
        throw AppError.conflict('This slug is already taken', { field: 'slug' });
      if (isForeignKeyViolation(err, 'courses_category_id_fkey')) throw unknownCategory();
      throw err;
    }
  }

  async update(scope: RequestScope, input: UpdateCourseInput): Promise<CourseRow> {
    const v = parseInput(updateCourseSchema, input);
    return this.withManageableCourse(
      scope,
      uuidOf('Course', v.id),
      async (tx, course) => {
        const changes = {
          title: v.title,
          description: v.description,
          priceCents: v.priceCents,
          categoryId:
            v.categoryId === undefined ? undefined : v.categoryId === null ? null : categoryUuid(v.categoryId),
        };
        if (Object.values(changes).every((x) => x === undefined)) return course;
        try {
          return await updateCourse(tx, course.id, changes);
        } catch (err) {
          if (isForeignKeyViolation(err, 'courses_category_id_fkey')) throw unknownCategory();
          throw err;
        }
      },
      // Ordering, search by title, category filters (and the categories' counts: they carry
      // Course:list, see cache-control.ts).
      ['Course:list'],
    );
  }

  /** DRAFT or ARCHIVED → PUBLISHED; publishing a published course changes nothing. */
  publish(scope: RequestScope, id: string): Promise<CourseRow> {
    return this.transition(scope, id, 'PUBLISHED');
  }

  /** → ARCHIVED: no new enrollments; actively enrolled students keep access. */
  archive(scope: RequestScope, id: string): Promise<CourseRow> {
    return this.transition(scope, id, 'ARCHIVED');
  }

  /** Refused with CONFLICT while students are actively enrolled; lessons go with the course. */
  async delete(scope: RequestScope, id: string): Promise<string> {
    return this.withManageableCourse(
      scope,
      uuidOf('Course', id),
      async (tx, course) => {
        const blocker = courseDeleteBlocker(await countActiveEnrollments(tx, course.id));
        if (blocker) throw blocker;
        await deleteCourse(tx, course.id);
        return id;
      },
      ['Course:list', 'Lesson:list', 'Enrollment:list'],
    );
  }

  private async transition(scope: RequestScope, id: string, to: 'PUBLISHED' | 'ARCHIVED'): Promise<CourseRow> {
    return this.withManageableCourse(
      scope,
      uuidOf('Course', id),
      async (tx, course) => {
        if (course.status === to) return course;
        if (!TRANSITIONS[to].includes(course.status)) {
          throw AppError.conflict(`A ${course.status} course cannot become ${to}`, { from: course.status, to });
        }
        return updateCourse(tx, course.id, {
          status: to,
          ...(to === 'PUBLISHED' && !course.publishedAt ? { publishedAt: new Date() } : {}),
        });
      },
      ['Course:list'],
    ); // visibility changes: lists gain or lose it
  }

  /**
   * Runs `work` in a transaction holding the course's row lock, after the visibility and
   * ownership checks: anonymous → UNAUTHENTICATED, hidden or missing → NOT_FOUND, not yours →
   * FORBIDDEN.
   */
  async withManageableCourse<T>(
    scope: RequestScope,
    courseId: string | null,
    work: (tx: Db, course: CourseRow) => Promise<T>,
    /** Cache tags the write changes besides the course itself. */
    alsoChanged: string[] = [],
  ): Promise<T> {
    requireSignedIn(scope.viewer);
    const visible = courseId ? await scope.loaders.courses.visibleById.load(courseId) : null;
    assertCanManageCourse(scope.viewer, visible);
    const result = await transaction(this.db, scope, async (tx) => {
      const locked = await lockCourse(tx, visible!.id);
      if (!locked) throw AppError.notFound('Course');
      return work(tx, locked);
    });
    // After the commit only: a refused or failed write invalidates nothing. Whatever is
    // written under the course's lock changes the course or what it counts.
    touched(scope, `Course:${visible!.id}`, ...alsoChanged);
    return result;
  }
}
