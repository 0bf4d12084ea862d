import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { EnrollmentRow, EntitlementRow } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest } from '../../graphql/pagination.js';
import {
  activeEntitlementsByCourses,
  countEnrollmentsByCourses,
  countEnrollmentsByStudents,
  enrollmentsPageByCourses,
  enrollmentsPageByStudents,
  findEnrollmentsByIds,
  viewerEnrollmentsByCourses,
  type EnrollmentCounts,
} from './enrollment.repository.js';

const noEnrollments = (): EnrollmentCounts => ({ all: 0, active: 0 });

function countLoader(fetch: (ids: string[]) => Promise<Map<string, EnrollmentCounts>>) {
  return new DataLoader<string, EnrollmentCounts>(async (ids) => {
    const counts = await fetch([...ids]);
    return ids.map((id) => counts.get(id) ?? noEnrollments());
  });
}

export function createEnrollmentLoaders(db: Db, viewer: Viewer) {
  return {
    visibleById: rowLoader(
      (ids) => findEnrollmentsByIds(db, ids, viewer),
      (e) => e.id,
    ),
    pageByCourse: groupedLoader<PageRequest, EnrollmentRow[]>(
      (ids, page) => enrollmentsPageByCourses(db, ids, page),
      pageKey,
      () => [],
    ),
    pageByStudent: groupedLoader<PageRequest, EnrollmentRow[]>(
      (ids, page) => enrollmentsPageByStudents(db, viewer, ids, page),
      pageKey,
      () => [],
    ),
    countsByCourse: countLoader((ids) => countEnrollmentsByCourses(db, ids)),
    countsByStudent: countLoader((ids) => countEnrollmentsByStudents(db, viewer, ids)),
    /** The signed-in viewer's own enrollment per course (null for anonymous viewers). */
    viewerByCourse: new DataLoader<string, EnrollmentRow | null>(async (courseIds) => {
      if (!viewer.userId) return courseIds.map(() => null);
      const found = await viewerEnrollmentsByCourses(db, viewer.userId, [...courseIds]);
      return courseIds.map((id) => found.get(id) ?? null);
    }),
    /** The signed-in viewer's active entitlement per course (null for anonymous viewers). */
    viewerEntitlementByCourse: new DataLoader<string, EntitlementRow | null>(async (courseIds) => {
      if (!viewer.userId) return courseIds.map(() => null);
      const found = await activeEntitlementsByCourses(db, viewer.userId, [...courseIds]);
      return courseIds.map((id) => found.get(id) ?? null);
    }),
  };
}
