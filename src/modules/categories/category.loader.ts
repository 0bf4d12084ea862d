import DataLoader from 'dataloader';
import type { Db } from '../../db/client.js';
import { rowLoader } from '../../graphql/loader-utils.js';
import { findCategoriesByIds, publishedCountsByCategories } from './category.repository.js';

/** Categories are public: nothing here depends on the viewer. */
export function createCategoryLoaders(db: Db) {
  return {
    byId: rowLoader(
      (ids) => findCategoriesByIds(db, ids),
      (c) => c.id,
    ),
    publishedCount: new DataLoader<string, number>(async (ids) => {
      const counts = await publishedCountsByCategories(db, [...ids]);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
