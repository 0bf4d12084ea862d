// The dashboard's operations, typed by hand (the schema's types in examples/generated are
// generated for the recipes' documents, not these).
import { gql } from '@urql/core';

export const SIGN_IN = gql<
  { login: { accessToken: string; refreshToken: string; user: { displayName: string; role: string } } },
  { email: string; password: string }
>`
  mutation SignIn($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) {
      accessToken
      refreshToken
      user {
        displayName
        role
      }
    }
  }
`;

export const REFRESH = gql<
  { refreshSession: { accessToken: string; refreshToken: string } },
  { refreshToken: string | undefined }
>`
  mutation Refresh($refreshToken: String!) {
    refreshSession(input: { refreshToken: $refreshToken }) {
      accessToken
      refreshToken
    }
  }
`;

export interface DashboardCourse {
  id: string;
  title: string;
  status: string;
  lessons: { edges: Array<{ node: { id: string; title: string; status: string } }> };
}

export const DASHBOARD = gql<{ me: { coursesTaught: { edges: Array<{ node: DashboardCourse }> } } | null }>`
  query Dashboard {
    me {
      coursesTaught(first: 20) {
        edges {
          node {
            id
            title
            status
            lessons(first: 20) {
              edges {
                node {
                  id
                  title
                  status
                }
              }
            }
          }
        }
      }
    }
  }
`;

export interface LessonChange {
  cursor: string;
  previousStatus: string | null;
  status: string;
  lesson: { id: string; title: string; course: { id: string } };
}

/** Every course the viewer teaches; `after` is kept current by the client (see api.ts). */
export const LESSON_CHANGES = gql<{ lessonStatusChanged: LessonChange }, { after: string | null }>`
  subscription LessonChanges($after: String) {
    lessonStatusChanged(after: $after) {
      cursor
      previousStatus
      status
      lesson {
        id
        title
        course {
          id
        }
      }
    }
  }
`;

export interface CourseStats {
  activeEnrollments: number;
  averageProgressPercent: number;
  studentsCompleted: number;
}

export const COURSE_STATS = gql<{ courseStatsChanged: CourseStats }, { courseId: string }>`
  subscription CourseStats($courseId: ID!) {
    courseStatsChanged(courseId: $courseId) {
      activeEnrollments
      averageProgressPercent
      studentsCompleted
    }
  }
`;
