import { requireRole } from '../../auth/viewer.js';
import { touched, type RequestScope } from '../../request-scope.js';
import { isUniqueViolation, type Db } from '../../db/client.js';
import { transaction } from '../../db/operation-guard.js';
import type { CategoryRow } from '../../db/schema.js';
import { AppError } from '../../errors/app-error.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parseInput } from '../../graphql/validation.js';
import { slugify } from '../courses/index.js';
import {
  createCategorySchema,
  updateCategorySchema,
  type CreateCategoryInput,
  type UpdateCategoryInput,
} from './category.inputs.js';
import {
  deleteCategory,
  findCategoryBySlug,
  insertCategory,
  listCategories,
  updateCategory,
} from './category.repository.js';

const MAX_SLUG_LENGTH = 200;

/** Reads of categories: public, everyone sees every category. */
export class CategoryService {
  constructor(private readonly db: Db) {}

  async findVisible(scope: RequestScope, id: string): Promise<CategoryRow | null> {
    const uuid = uuidOf('Category', id);
    return uuid ? scope.loaders.categories.byId.load(uuid) : null;
  }

  list(): Promise<CategoryRow[]> {
    return listCategories(this.db);
  }

  async bySlug(slug: string): Promise<CategoryRow | null> {
    if (slug.length === 0 || slug.length > MAX_SLUG_LENGTH) return null;
    return (await findCategoryBySlug(this.db, slug)) ?? null;
  }

  /** A course's category (null: none). */
  async ofCourse(scope: RequestScope, categoryId: string | null): Promise<CategoryRow | null> {
    return categoryId ? scope.loaders.categories.byId.load(categoryId) : null;
  }

  publishedCourseCount(scope: RequestScope, categoryId: string): Promise<number> {
    return scope.loaders.categories.publishedCount.load(categoryId);
  }
}

/**
 * Admin writes to categories. A write changes the category's own tag, and `Category:list`
 * (the list and lookups by slug that found nothing); deleting also changes its courses' lists.
 */
export class CategoryCommands {
  constructor(private readonly db: Db) {}

  async create(scope: RequestScope, input: CreateCategoryInput): Promise<CategoryRow> {
    requireRole(scope.viewer, 'ADMIN');
    const v = parseInput(createCategorySchema, input);
    const slug = v.slug ?? slugify(v.name, 'category');
    const row = await this.write(() =>
      transaction(this.db, scope, (tx) =>
        insertCategory(tx, { name: v.name, slug, description: v.description ?? null }),
      ),
    );
    touched(scope, 'Category:list');
    return row;
  }

  async update(scope: RequestScope, input: UpdateCategoryInput): Promise<CategoryRow> {
    requireRole(scope.viewer, 'ADMIN');
    const v = parseInput(updateCategorySchema, input);
    const id = uuidOf('Category', v.id);
    if (!id) throw AppError.notFound('Category');
    const changes = { name: v.name, slug: v.slug, description: v.description };
    const row = await this.write(() => transaction(this.db, scope, (tx) => updateCategory(tx, id, changes)));
    if (!row) throw AppError.notFound('Category');
    touched(scope, `Category:${id}`, 'Category:list');
    return row;
  }

  async delete(scope: RequestScope, id: string): Promise<string> {
    requireRole(scope.viewer, 'ADMIN');
    const uuid = uuidOf('Category', id);
    if (!uuid || !(await transaction(this.db, scope, (tx) => deleteCategory(tx, uuid))))
      throw AppError.notFound('Category');
    // Its courses lose their category: every response showing it, and filtered lists.
    touched(scope, `Category:${uuid}`, 'Category:list', 'Course:list');
    return id;
  }

  /** Unique violations name the field that collided. */
  private async write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isUniqueViolation(err, 'categories_slug_key'))
        throw AppError.conflict('This slug is already taken', { field: 'slug' });
      if (isUniqueViolation(err, 'categories_name_lower_key'))
        throw AppError.conflict('A category with this name exists', { field: 'name' });
      throw err;
    }
  }
}
