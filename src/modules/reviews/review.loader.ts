import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { ReviewRow } from '../../db/schema.js';
import { groupedLoader, rowLoader } from '../../graphql/loader-utils.js';
import { pageKey, type PageRequest, type SortSpec } from '../../graphql/pagination.js';
import {
  countReviewsByCourses,
  findReviewsByIds,
  reviewsOfAuthorByCourses,
  reviewsPageByCourses,
} from './review.repository.js';

export interface ReviewPageParams {
  spec: SortSpec<ReviewRow>;
  page: PageRequest;
}

export function createReviewLoaders(db: Db, viewer: Viewer) {
  return {
    /** Entry points and writes: hidden reviews only for their author and admins. */
    visibleById: rowLoader(
      (ids) => findReviewsByIds(db, ids, viewer),
      (r) => r.id,
    ),
    /** One page of `Course.reviews` for a page of courses (per distinct order and cursor). */
    pageByCourse: groupedLoader<ReviewPageParams, ReviewRow[]>(
      (courseIds, p) => reviewsPageByCourses(db, viewer, courseIds, p.spec, p.page),
      (p) => `${p.spec.key}|${pageKey(p.page)}`,
      () => [],
    ),
    countByCourse: new DataLoader<string, number>(async (ids) => {
      const counts = await countReviewsByCourses(db, viewer, [...ids]);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
    /** The signed-in viewer's own review per course (null for anonymous viewers). */
    viewerByCourse: new DataLoader<string, ReviewRow | null>(async (ids) => {
      if (!viewer.userId) return ids.map(() => null);
      const found = await reviewsOfAuthorByCourses(db, viewer.userId, [...ids]);
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}
