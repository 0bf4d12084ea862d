import DataLoader from 'dataloader';
import type { Viewer } from '../../auth/viewer.js';
import type { Db } from '../../db/client.js';
import {
  completionsOf,
  progressOfPairs,
  statsOfCourses,
  type CourseStatsData,
  type ProgressData,
} from './progress.repository.js';

export function createProgressLoaders(db: Db, viewer: Viewer) {
  return {
    /** The viewer's completedAt per lesson id (null for anonymous viewers and unmarked lessons). */
    viewerCompletedAt: new DataLoader<string, Date | null>(async (lessonIds) => {
      if (!viewer.userId) return lessonIds.map(() => null);
      const found = await completionsOf(db, viewer.userId, [...lessonIds]);
      return lessonIds.map((id) => found.get(id) ?? null);
    }),
    /** Keys "courseId|studentId": one statement for a whole roster page. */
    byCourseAndStudent: new DataLoader<string, ProgressData>(async (keys) => {
      const pairs = keys.map((k) => {
        const [courseId, studentId] = k.split('|') as [string, string];
        return { courseId, studentId };
      });
      const found = await progressOfPairs(db, pairs);
      return keys.map(
        (k, i) =>
          found.get(k) ?? { ...pairs[i]!, completedLessons: 0, totalLessons: 0, percent: 0, lastActivityAt: null },
      );
    }),
    statsByCourse: new DataLoader<string, CourseStatsData>(async (courseIds) => {
      const found = await statsOfCourses(db, [...courseIds]);
      return courseIds.map((id) => found.get(id)!);
    }),
  };
}
