import {
  Arg,
  Args,
  Ctx,
  Directive,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from '../../graphql/type-graphql.js';
import { auth } from '../../auth/auth.directive.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import type { GraphQLContext } from '../../context.js';
import type { CategoryRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { CourseConnection, type CourseService } from '../courses/index.js';
import { CreateCategoryInput, UpdateCategoryInput } from './category.inputs.js';
import type { CategoryCommands, CategoryService } from './category.service.js';
import { Category } from './category.type.js';

@Resolver(() => Category)
export class CategoryResolver {
  constructor(
    private readonly categoriesService: CategoryService,
    private readonly commands: CategoryCommands,
    private readonly coursesService: CourseService,
  ) {}

  @Query(() => [Category], { description: 'Every category, by name.' })
  @Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
  categories() {
    return this.categoriesService.list();
  }

  @Query(() => Category, { nullable: true })
  @Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
  categoryBySlug(@Arg('slug', () => String) slug: string) {
    return this.categoriesService.bySlug(slug);
  }

  @Mutation(() => Category, { description: 'Admins only.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  createCategory(@Arg('input', () => CreateCategoryInput) input: CreateCategoryInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.create(ctx, input);
  }

  @Mutation(() => Category, { description: 'Admins only.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  updateCategory(@Arg('input', () => UpdateCategoryInput) input: UpdateCategoryInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.update(ctx, input);
  }

  @Mutation(() => ID, { description: 'Admins only; its courses keep existing without a category.' })
  @Directive(auth({ requires: ['ADMIN'] }))
  deleteCategory(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @FieldResolver(() => ID)
  id(@Root() category: CategoryRow) {
    return toGlobalId('Category', category.id);
  }

  @FieldResolver(() => CourseConnection, {
    description: 'The courses of this category the viewer may see (as Query.courses).',
    complexity: connectionComplexity,
  })
  courses(
    @Root() category: CategoryRow,
    @Args(() => ForwardPageArgs) args: ForwardPageArgs,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.coursesService.inCategory(ctx, category.id, args);
  }

  @FieldResolver(() => Int, { description: 'PUBLISHED courses in this category.' })
  publishedCourseCount(@Root() category: CategoryRow, @Ctx() ctx: GraphQLContext) {
    return this.categoriesService.publishedCourseCount(ctx, category.id);
  }
}
