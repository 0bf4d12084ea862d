import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { LessonRow, LessonStatus } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest } from '../../graphql/pagination.js';
import {
  emptyLessonCounts,
  findLessonsByIds,
  lessonCountsByCourses,
  lessonsPageByCourses,
  type LessonColumns,
  type LessonCounts,
} from './lesson.repository.js';

export interface LessonPageParams {
  page: PageRequest;
  status: LessonStatus | null;
  /** Only these columns (rows are partial: only the query's own fields read them). */
  columns?: LessonColumns;
}

/** What tells one set of `Course.lessons` arguments (and columns) from another. */
export function lessonPageKey(p: LessonPageParams): string {
  return `${p.status ?? '*'}|${pageKey(p.page)}|${p.columns?.key ?? '*'}`;
}

/** `byId` may be passed in: one shared by every subscriber of an event (see context.ts). */
export function createLessonLoaders(db: Db, viewer: Viewer, byId?: DataLoader<string, LessonRow | null>) {
  return {
    byId:
      byId ??
      rowLoader(
        (ids) => findLessonsByIds(db, ids),
        (l) => l.id,
      ),
    visibleById: rowLoader(
      (ids) => findLessonsByIds(db, ids, viewer),
      (l) => l.id,
    ),
    /** One page of `Course.lessons` for many courses at once (per distinct arguments). */
    pageByCourse: groupedLoader<LessonPageParams, LessonRow[]>(
      (courseIds, p) => lessonsPageByCourses(db, courseIds, p.page, p.status, p.columns),
      lessonPageKey,
      () => [],
    ),
    /**
     * Pages loaded ahead with a catalog page (`LessonService.primeCoursePages`), by
     * `lessonPageKey` and course: read synchronously by `ofCourse`, with no loader call, no
     * promise and no key per course.
     */
    primedPages: new Map<string, Map<string, LessonRow[]>>(),
    countsByCourse: new DataLoader<string, LessonCounts>(async (ids) => {
      const counts = await lessonCountsByCourses(db, [...ids]);
      return ids.map((id) => counts.get(id) ?? emptyLessonCounts());
    }),
  };
}
