import type { Db } from '../../db/client.js';
import { rowLoader } from '../../graphql/loader-utils.js';
import { findEntitlementsByIds } from './entitlement.repository.js';

export function createEntitlementLoaders(db: Db) {
  return {
    /** Rows by id, unchecked: `EntitlementService.findVisible` applies who may see them. */
    byId: rowLoader(
      (ids) => findEntitlementsByIds(db, ids),
      (e) => e.id,
    ),
  };
}
