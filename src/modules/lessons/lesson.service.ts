import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { RequestScope } from '../../request-scope.js';
import type { LessonRow, LessonStatus } from '../../db/schema.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs, type PageRequest } from '../../graphql/pagination.js';
import { argumentsOf } from '../../graphql/lookahead.js';
import type { CoursePageChild, CoursePageQueries } from '../courses/index.js';
import type { Db } from '../../db/client.js';
import { lessonPageKey } from './lesson.loader.js';
import { AppError } from '../../errors/app-error.js';
import {
  lessonListColumns,
  lessonsPageByCourses,
  lessonSort,
  scheduleCount,
  schedulePage,
  scheduleSort,
  type LessonColumns,
  type ScheduleOwner,
} from './lesson.repository.js';

const DAY_MS = 86_400_000;
/** A schedule window may span at most a year (366 days, for leap years). */
const MAX_WINDOW_MS = 366 * DAY_MS;
const DEFAULT_WINDOW_MS = 30 * DAY_MS;

export interface ScheduleArgs extends PageArgs {
  from?: Date | null;
  to?: Date | null;
}

export class LessonService {
  constructor(private readonly db: Db) {}

  /**
   * `User.schedule` (field-guarded: the user themself). [from, to) defaults to the next 30
   * days; a window longer than a year, or an empty one, is BAD_USER_INPUT.
   */
  async scheduleOf(scope: RequestScope, user: ScheduleOwner, args: ScheduleArgs): Promise<Connection<LessonRow>> {
    const from = args.from ?? new Date();
    const to = args.to ?? new Date(from.getTime() + DEFAULT_WINDOW_MS);
    if (!(to.getTime() > from.getTime())) throw AppError.badInput({ to: 'must be later than from' });
    if (to.getTime() - from.getTime() > MAX_WINDOW_MS)
      throw AppError.badInput({ to: 'must be at most a year after from' });
    const page = parsePage(scheduleSort, { first: args.first, after: args.after });
    const rows = await schedulePage(this.db, user, from, to, page);
    return toConnection(scheduleSort, page, rows, () => scheduleCount(this.db, user, from, to));
  }

  /** A lesson whose course the viewer may see, by global ID; null otherwise. */
  async findVisible(scope: RequestScope, id: string): Promise<LessonRow | null> {
    const uuid = uuidOf('Lesson', id);
    return uuid ? scope.loaders.lessons.visibleById.load(uuid) : null;
  }

  /**
   * `Course.lessons`, in curriculum order (no-section lessons first, then by section, then
   * position). A page loaded ahead with its catalog page is answered at once (not a promise).
   */
  ofCourse(
    scope: RequestScope,
    courseId: string,
    args: PageArgs,
    status: LessonStatus | null,
    /** The columns the query selects (default: all; see graphql/selected-columns.ts). */
    columns?: LessonColumns,
  ): Connection<LessonRow> | Promise<Connection<LessonRow>> {
    const page = parsePage(lessonSort, args);
    const params = { page, status, columns };
    const loaders = scope.loaders.lessons;
    const count = async () => (await loaders.countsByCourse.load(courseId))[status ?? 'ALL'];
    const primed = loaders.primedPages.size ? loaders.primedPages.get(lessonPageKey(params))?.get(courseId) : undefined;
    if (primed) return toConnection(lessonSort, page, primed, count);
    return loaders.pageByCourse
      .load({ parentId: courseId, params })
      .then((rows) => toConnection(lessonSort, page, rows, count));
  }

  /**
   * `Course.lessons` for a whole page of courses, loaded with the page itself (see
   * `CoursePageChild`): the field `node` (its arguments as its resolver will read them, its
   * columns as `lessonListColumns` picks them) for every course `page.ids` selects, kept
   * under the very key `ofCourse` reads (`primedPages`). Courses without lessons are not primed (nothing tells
   * them from courses the statement did not cover): their resolvers load as usual.
   */
  primeCoursePages(
    scope: RequestScope,
    page: CoursePageQueries,
    node: FieldNode,
    info: GraphQLResolveInfo,
  ): Promise<void> | undefined {
    const args = argumentsOf(info, 'Course', node) as (PageArgs & { status?: LessonStatus | null }) | null;
    if (args === null) return undefined;
    let request: PageRequest;
    try {
      request = parsePage(lessonSort, args);
    } catch {
      return undefined; // the resolver reports it
    }
    const status = args.status ?? null;
    const columns = lessonListColumns.of({ fieldNodes: [node], fragments: info.fragments });
    const params = { page: request, status, columns };
    const parents = { ids: page.ids, shape: page.shape, values: page.values };
    return lessonsPageByCourses(this.db, parents, request, status, columns).then((pages) => {
      const primed = scope.loaders.lessons.primedPages;
      const key = lessonPageKey(params);
      const known = primed.get(key);
      if (known) for (const [parentId, rows] of pages) known.set(parentId, rows);
      else primed.set(key, pages);
    });
  }

  async countOfCourse(scope: RequestScope, courseId: string): Promise<number> {
    return (await scope.loaders.lessons.countsByCourse.load(courseId)).ALL;
  }
}

/** `Course.lessons` loaded with a catalog page (see `LessonService.primeCoursePages`). */
export function lessonsAhead(lessons: Pick<LessonService, 'primeCoursePages'>): CoursePageChild {
  return { field: 'lessons', ahead: (scope, page, node, info) => lessons.primeCoursePages(scope, page, node, info) };
}
