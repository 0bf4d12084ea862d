import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from '../../graphql/type-graphql.js';
import type { GraphQLContext } from '../../context.js';
import type { CourseRow, LessonRow, SectionRow } from '../../db/schema.js';
import { toGlobalId } from '../../graphql/global-id.js';
import { connectionComplexity, ForwardPageArgs } from '../../graphql/relay.types.js';
import { Course, type CourseService } from '../courses/index.js';
import { Lesson, LessonConnection } from '../lessons/index.js';
import { CreateSectionInput, MoveLessonInput, UpdateSectionInput } from './section.inputs.js';
import type { SectionCommands, SectionService } from './section.service.js';
import { Section } from './section.type.js';

@Resolver(() => Section)
export class SectionResolver {
  constructor(
    private readonly sectionsService: SectionService,
    private readonly coursesService: CourseService,
    private readonly commands: SectionCommands,
  ) {}

  @Mutation(() => Section, { description: "The course's instructor and admins, for the section mutations below too." })
  createSection(@Arg('input', () => CreateSectionInput) input: CreateSectionInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.create(ctx, input);
  }

  @Mutation(() => Section)
  updateSection(@Arg('input', () => UpdateSectionInput) input: UpdateSectionInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.update(ctx, input);
  }

  @Mutation(() => ID, { description: 'CONFLICT while the section still holds lessons.' })
  deleteSection(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.commands.delete(ctx, id);
  }

  @Mutation(() => Lesson, {
    description: "The course's instructor and admins. Positions stay contiguous from 0 in the source and the target.",
  })
  moveLesson(@Arg('input', () => MoveLessonInput) input: MoveLessonInput, @Ctx() ctx: GraphQLContext) {
    return this.commands.moveLesson(ctx, input);
  }

  @FieldResolver(() => ID)
  id(@Root() section: SectionRow) {
    return toGlobalId('Section', section.id);
  }

  @FieldResolver(() => Course)
  course(@Root() section: SectionRow, @Ctx() ctx: GraphQLContext) {
    return this.coursesService.related(ctx, section.courseId);
  }

  @FieldResolver(() => LessonConnection, {
    description: "The section's lessons in order.",
    complexity: connectionComplexity,
  })
  lessons(@Root() section: SectionRow, @Args(() => ForwardPageArgs) args: ForwardPageArgs, @Ctx() ctx: GraphQLContext) {
    return this.sectionsService.lessons(ctx, section.id, args);
  }

  @FieldResolver(() => Int)
  lessonCount(@Root() section: SectionRow, @Ctx() ctx: GraphQLContext) {
    return this.sectionsService.lessonCount(ctx, section.id);
  }
}

/** A course's sections: here, not in courses/, because sections depend on courses. */
@Resolver(() => Course)
export class CourseSectionsResolver {
  constructor(private readonly sectionsService: SectionService) {}

  @FieldResolver(() => [Section], {
    description: "The curriculum's sections in order.",
    // A course holds at most 200 sections; priced like a default page.
    complexity: ({ childComplexity }) => 1 + 20 * Math.max(1, childComplexity),
  })
  sections(@Root() course: CourseRow, @Ctx() ctx: GraphQLContext) {
    return this.sectionsService.ofCourse(ctx, course.id);
  }
}

/** A lesson's section: here, because sections depend on lessons. */
@Resolver(() => Lesson)
export class LessonSectionResolver {
  constructor(private readonly sectionsService: SectionService) {}

  @FieldResolver(() => Section, {
    nullable: true,
    description: 'null: the lesson belongs to no section (it then comes before every section).',
  })
  section(@Root() lesson: LessonRow, @Ctx() ctx: GraphQLContext) {
    return this.sectionsService.ofLesson(ctx, lesson);
  }
}
