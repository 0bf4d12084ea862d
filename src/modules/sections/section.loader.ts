import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { LessonRow, SectionRow } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest } from '../../graphql/pagination.js';
import {
  findSectionsByIds,
  lessonCountsBySections,
  lessonsPageBySections,
  sectionsByCourses,
} from './section.repository.js';

export function createSectionLoaders(db: Db, viewer: Viewer) {
  return {
    /** For relations of objects the viewer already sees (a lesson's section). */
    byId: rowLoader(
      (ids) => findSectionsByIds(db, ids),
      (s) => s.id,
    ),
    /** For entry points (`node`): sections of hidden courses are missing. */
    visibleById: rowLoader(
      (ids) => findSectionsByIds(db, ids, viewer),
      (s) => s.id,
    ),
    byCourse: new DataLoader<string, SectionRow[]>(async (ids) => {
      const byCourse = await sectionsByCourses(db, [...ids]);
      return ids.map((id) => byCourse.get(id) ?? []);
    }),
    lessonsPage: groupedLoader<PageRequest, LessonRow[]>(
      (sectionIds, page) => lessonsPageBySections(db, sectionIds, page),
      pageKey,
      () => [],
    ),
    lessonCount: new DataLoader<string, number>(async (ids) => {
      const counts = await lessonCountsBySections(db, [...ids]);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
