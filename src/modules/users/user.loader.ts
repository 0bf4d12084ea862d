import type DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import type { UserRow } from '../../db/schema.js';
import { rowLoader } from '../../graphql/loader-utils.js';
import { findUsersByIds } from './user.repository.js';

/** `byId` may be passed in: one shared by every subscriber of an event (see context.ts). */
export function createUserLoaders(db: Db, viewer: Viewer, byId?: DataLoader<string, UserRow | null>) {
  return {
    /** For relations of objects the viewer already sees (a course's instructor, an enrollment's student). */
    byId:
      byId ??
      rowLoader(
        (ids) => findUsersByIds(db, ids),
        (u) => u.id,
      ),
    /** Rows loaded ahead (`UserService.primeRelated`), also primed in `byId`: read synchronously by `related`. */
    primed: new Map<string, UserRow>(),
    /** For entry points (`user`, `node`): a hidden user is indistinguishable from a missing one. */
    visibleById: rowLoader(
      (ids) => findUsersByIds(db, ids, viewer),
      (u) => u.id,
    ),
  };
}
