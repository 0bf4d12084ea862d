import { Ctx, FieldResolver, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow } from '../../db/schema.js';
import { Course } from '../courses/index.js';
import type { CategoryService } from './category.service.js';
import { Category } from './category.type.js';

/** A course's category: here, not in courses/, because categories depend on courses. */
@Resolver(() => Course)
export class CourseCategoryResolver {
  constructor(private readonly categoriesService: CategoryService) {}

  @FieldResolver(() => Category, { nullable: true })
  category(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.categoriesService.ofCourse(ctx, course.categoryId);
  }
}
