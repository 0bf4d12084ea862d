import type { GraphQLResolveInfo } from 'graphql';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import type { CourseRow } from '../../db/schema.js';
import { together } from '../../db/together.js';
import { AppError, type FieldErrors } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { canManageCourse } from './course.policy.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import { selectsField } from '../../graphql/lookahead.js';
import { CoursePageAhead, type CoursePageChild } from './course.prefetch.js';
import {
  catalogPageQueries,
  categorySort,
  countCourses,
  courseListColumns,
  courseSort,
  findCourseBySlug,
  listCourses,
  taughtSort,
  type CourseListFilter,
} from './course.repository.js';
import type { CourseFilter, CourseOrder } from './course.type.js';

const MAX_SEARCH_LENGTH = 200;
const MAX_SLUG_LENGTH = 200;

export class CourseService {
  private readonly ahead: CoursePageAhead;

  /** `children`: fields of `Course` a catalog page loads in the same round trip as itself. */
  constructor(
    private readonly db: Db,
    children: readonly CoursePageChild[] = [],
  ) {
    this.ahead = new CoursePageAhead(children);
  }

  /** A course the viewer may see, by global ID; null when missing, hidden or not a Course ID. */
  async findVisible(scope: RequestScope, id: string): Promise<CourseRow | null> {
    const uuid = uuidOf('Course', id);
    return uuid ? scope.loaders.courses.visibleById.load(uuid) : null;
  }

  async findVisibleBySlug(scope: RequestScope, slug: string): Promise<CourseRow | null> {
    if (slug.length === 0 || slug.length > MAX_SLUG_LENGTH) return null;
    return (await findCourseBySlug(this.db, slug, scope.viewer)) ?? null;
  }

  /**
   * Follows a foreign key (a lesson's or an enrollment's course) under the same visibility rule
   * as a direct read: seeing the lesson (in a schedule, say) grants nothing on its course. Most
   * courses are settled from the shared row (published, or the viewer's to manage); the rest
   * (an archived course the viewer is enrolled in) by the rule in SQL. Hidden: NOT_FOUND.
   */
  async related(scope: RequestScope, courseId: string): Promise<CourseRow> {
    const course = await scope.loaders.courses.rowForPolicy.load(courseId);
    if (!course) throw new Error(`dangling reference to course ${courseId}`);
    if (course.status === 'PUBLISHED' || canManageCourse(scope.viewer, course)) return course;
    const visible = await scope.loaders.courses.visibleById.load(courseId);
    if (!visible) throw AppError.notFound('Course');
    return visible;
  }

  async list(
    scope: RequestScope,
    args: PageArgs,
    filter: CourseFilter | null | undefined,
    orderBy: CourseOrder | null | undefined,
    /** The query's selection: on the catalog, what the page's courses select is loaded with it. */
    info?: GraphQLResolveInfo,
  ): Promise<Connection<CourseRow>> {
    const f = parseFilter(filter);
    const spec = courseSort(orderBy?.field, orderBy?.direction);
    const page = parsePage(spec, args);
    const queries = info && catalogPageQueries(this.db, scope.viewer, f, spec, page);
    if (!info || !queries) {
      const rows = await listCourses(this.db, scope.viewer, f, spec, page);
      return toConnection(spec, page, rows, () => countCourses(this.db, scope.viewer, f));
    }
    // The catalog: the count (when selected) and the page's children are asked for in the
    // same tick as the page, so its statements travel together (one round trip, not three),
    // those that can as one statement.
    let count: Promise<number> | undefined;
    const { listing, children } = together(() => {
      if (selectsField(info, 'totalCount')) {
        count = countCourses(this.db, scope.viewer, f);
        count.catch(() => {}); // read (and reported) by totalCount
      }
      return {
        listing: listCourses(this.db, scope.viewer, f, spec, page, courseListColumns.of(info)),
        children: this.ahead.start(scope, queries, info),
      };
    });
    const rows = await listing;
    if (children) await children;
    return toConnection(spec, page, rows, () => count ?? countCourses(this.db, scope.viewer, f));
  }

  /** `User.coursesTaught`: the instructor's courses this viewer may see. */
  async taughtBy(scope: RequestScope, instructorId: string, args: PageArgs): Promise<Connection<CourseRow>> {
    const page = parsePage(taughtSort, args);
    const rows = await scope.loaders.courses.taughtPage.load({ parentId: instructorId, params: page });
    return toConnection(taughtSort, page, rows, () => scope.loaders.courses.taughtCount.load(instructorId));
  }

  /** `Category.courses`: the category's courses this viewer may see, newest first. */
  async inCategory(scope: RequestScope, categoryId: string, args: PageArgs): Promise<Connection<CourseRow>> {
    const page = parsePage(categorySort, args);
    const rows = await scope.loaders.courses.categoryPage.load({ parentId: categoryId, params: page });
    return toConnection(categorySort, page, rows, () => scope.loaders.courses.categoryCount.load(categoryId));
  }
}

function parseFilter(filter: CourseFilter | null | undefined): CourseListFilter {
  const errors: FieldErrors = {};
  const result: CourseListFilter = {};
  const search = filter?.search?.trim();
  if (search) {
    if (search.length > MAX_SEARCH_LENGTH) errors['filter.search'] = `must be at most ${MAX_SEARCH_LENGTH} characters`;
    else result.search = search;
  }
  if (filter?.instructorId != null) {
    const uuid = uuidOf('User', filter.instructorId);
    if (uuid) result.instructorId = uuid;
    else errors['filter.instructorId'] = 'is not a valid User ID';
  }
  if (filter?.status) result.status = filter.status;
  if (filter?.categoryId != null) {
    const uuid = uuidOf('Category', filter.categoryId);
    if (uuid) result.categoryId = uuid;
    else errors['filter.categoryId'] = 'is not a valid Category ID';
  }
  if (filter?.minRating != null) {
    if (!Number.isFinite(filter.minRating) || filter.minRating < 1 || filter.minRating > 5)
      errors['filter.minRating'] = 'must be between 1 and 5';
    else result.minRating = filter.minRating;
  }
  if (filter?.free != null) result.free = filter.free;
  if (Object.keys(errors).length) throw AppError.badInput(errors);
  return result;
}
