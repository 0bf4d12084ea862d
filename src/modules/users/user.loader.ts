import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import { rowLoader } from '../../graphql/loader-utils.js';
import { findUsersByIds } from './user.repository.js';

export function createUserLoaders(db: Db, viewer: Viewer) {
  return {
    /** For relations of objects the viewer already sees (a course's instructor, an enrollment's student). */
    byId: rowLoader((ids) => findUsersByIds(db, ids), (u) => u.id),
    /** For entry points (`user`, `node`): a hidden user is indistinguishable from a missing one. */
    visibleById: rowLoader((ids) => findUsersByIds(db, ids, viewer), (u) => u.id),
  };
}
