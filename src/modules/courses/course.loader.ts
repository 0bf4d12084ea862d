import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { CourseRow } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest } from '../../graphql/pagination.js';
import {
  countCoursesByCategories,
  countCoursesByInstructors,
  coursesPageByCategories,
  coursesPageByInstructors,
  findCoursesByIds,
} from './course.repository.js';

/** `byId` may be passed in: one shared by every subscriber of an event (see context.ts). */
export function createCourseLoaders(db: Db, viewer: Viewer, byId?: DataLoader<string, CourseRow | null>) {
  return {
    /**
     * Rows as stored, whoever asks: for authorization decisions (who teaches it) only. A course
     * returned to a client comes from `visibleById`, or from `CourseService.related`, which
     * applies the visibility rule to what this loads.
     */
    rowForPolicy:
      byId ??
      rowLoader(
        (ids) => findCoursesByIds(db, ids),
        (c) => c.id,
      ),
    /** For entry points: hidden courses behave exactly like missing ones. */
    visibleById: rowLoader(
      (ids) => findCoursesByIds(db, ids, viewer),
      (c) => c.id,
    ),
    /** One page of `User.coursesTaught` for many instructors at once. */
    taughtPage: groupedLoader<PageRequest, CourseRow[]>(
      (instructorIds, page) => coursesPageByInstructors(db, viewer, instructorIds, page),
      pageKey,
      () => [],
    ),
    taughtCount: new DataLoader<string, number>(async (ids) => {
      const counts = await countCoursesByInstructors(db, viewer, [...ids]);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    /** One page of `Category.courses` for many categories at once. */
    categoryPage: groupedLoader<PageRequest, CourseRow[]>(
      (categoryIds, page) => coursesPageByCategories(db, viewer, categoryIds, page),
      pageKey,
      () => [],
    ),
    categoryCount: new DataLoader<string, number>(async (ids) => {
      const counts = await countCoursesByCategories(db, viewer, [...ids]);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
