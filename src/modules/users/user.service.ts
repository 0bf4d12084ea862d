import { requireRole } from '../../auth/viewer.js';
import type { RequestScope } from '../../request-scope.js';
import type { Db } from '../../db/client.js';
import type { UserRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import type { ParentQuery } from '../../db/paged-by-parent.js';
import { countUsers, findUsersIn, listUsers, userSort, type UserListFilter } from './user.repository.js';

export class UserService {
  constructor(private readonly db: Db) {}

  /** The signed-in viewer's own user row, or null for anonymous viewers. */
  async me(scope: RequestScope): Promise<UserRow | null> {
    const { userId } = scope.viewer;
    return userId ? scope.loaders.users.byId.load(userId) : null;
  }

  /** A user the viewer may see, by global ID; null when missing, hidden or not a User ID. */
  async findVisible(scope: RequestScope, id: string): Promise<UserRow | null> {
    const uuid = uuidOf('User', id);
    return uuid ? scope.loaders.users.visibleById.load(uuid) : null;
  }

  /**
   * Follows a foreign key from an object the viewer already sees. A user loaded ahead
   * (`primeRelated`) is answered at once (not a promise).
   */
  related(scope: RequestScope, userId: string): UserRow | Promise<UserRow> {
    const loaders = scope.loaders.users;
    const primed = loaders.primed.size ? loaders.primed.get(userId) : undefined;
    if (primed) return primed;
    return loaders.byId.load(userId).then((user) => {
      if (!user) throw new Error(`dangling reference to user ${userId}`);
      return user;
    });
  }

  /**
   * Loads the users `query` selects (a page's instructors, say) and primes the request's
   * `byId` loader with them: `related` then finds them there.
   */
  async primeRelated(scope: RequestScope, query: ParentQuery): Promise<void> {
    const loaders = scope.loaders.users;
    for (const row of await findUsersIn(this.db, query)) {
      loaders.byId.prime(row.id, row);
      loaders.primed.set(row.id, row);
    }
  }

  async list(
    scope: RequestScope,
    args: PageArgs,
    filter: UserListFilter | null | undefined,
  ): Promise<Connection<UserRow>> {
    requireRole(scope.viewer, 'ADMIN');
    const search = filter?.search?.trim();
    if (search && search.length > 200) throw AppError.badInput({ 'filter.search': 'must be at most 200 characters' });
    const f: UserListFilter = { role: filter?.role ?? null, search: search || null };
    const page = parsePage(userSort, args);
    const rows = await listUsers(this.db, f, page);
    return toConnection(userSort, page, rows, () => countUsers(this.db, f));
  }
}
