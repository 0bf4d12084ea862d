import type { RequestScope } from '../../request-scope.js';
import type { LessonRow, LessonStatus } from '../../db/schema.js';
import { uuidOf } from '../../graphql/global-id.js';
import { parsePage, toConnection, type Connection, type PageArgs } from '../../graphql/pagination.js';
import { lessonSort } from './lesson.repository.js';

export class LessonService {
  /** A lesson whose course the viewer may see, by global ID; null otherwise. */
  async findVisible(scope: RequestScope, id: string): Promise<LessonRow | null> {
    const uuid = uuidOf('Lesson', id);
    return uuid ? scope.loaders.lessons.visibleById.load(uuid) : null;
  }

  /** `Course.lessons`, in position order. */
  async ofCourse(scope: RequestScope, courseId: string, args: PageArgs, status: LessonStatus | null): Promise<Connection<LessonRow>> {
    const page = parsePage(lessonSort, args);
    const rows = await scope.loaders.lessons.pageByCourse.load({ parentId: courseId, params: { page, status } });
    return toConnection(lessonSort, page, rows, async () => {
      const counts = await scope.loaders.lessons.countsByCourse.load(courseId);
      return counts[status ?? 'ALL'];
    });
  }

  async countOfCourse(scope: RequestScope, courseId: string): Promise<number> {
    return (await scope.loaders.lessons.countsByCourse.load(courseId)).ALL;
  }
}
