// The live instructor dashboard: sign in, list the courses taught with their lessons, then
// follow lesson status changes (one subscription, resumed with `after`) and each course's
// statistics (one subscription per course). Plain DOM, no framework.
import { createEduFlowClients, type ConnectionState } from './api.js';
import { COURSE_STATS, DASHBOARD, LESSON_CHANGES, REFRESH, SIGN_IN } from './operations.js';
import type { CourseStats, DashboardCourse, LessonChange } from './operations.js';

const apiUrl = document.querySelector<HTMLMetaElement>('meta[name="eduflow-api"]')!.content;
const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

let accessToken: string | undefined;
let refreshToken: string | undefined;
const connection = $<HTMLSpanElement>('#connection');
const showState = (state: ConnectionState | 'signed-out') => {
  connection.dataset.state = state;
  connection.textContent = state;
};
const clients = createEduFlowClients(apiUrl, () => accessToken, showState);
$('#api').textContent = apiUrl;

$<HTMLFormElement>('#sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  void signIn(String(form.get('email')), String(form.get('password')));
});

async function signIn(email: string, password: string) {
  const result = await clients.urql.mutation(SIGN_IN, { email, password }).toPromise();
  const login = result.data?.login;
  if (!login) {
    $('#sign-in-error').textContent = result.error?.message ?? 'sign-in failed';
    return;
  }
  ({ accessToken, refreshToken } = login);
  // Access tokens live 15 minutes; a socket that reconnects later needs a fresh one.
  setInterval(() => void refresh(), 10 * 60_000);
  $('#sign-in').hidden = true;
  const viewer = $('#viewer');
  viewer.hidden = false;
  viewer.textContent = `Signed in as ${login.user.displayName} (${login.user.role})`;
  await showDashboard();
}

async function refresh() {
  const result = await clients.urql.mutation(REFRESH, { refreshToken }).toPromise();
  const session = result.data?.refreshSession;
  if (session) ({ accessToken, refreshToken } = session);
}

async function showDashboard() {
  const result = await clients.urql.query(DASHBOARD, {}).toPromise();
  const courses = result.data?.me?.coursesTaught.edges.map((e) => e.node) ?? [];
  const main = $('#courses');
  main.replaceChildren(...courses.map(courseCard));
  if (result.error) main.textContent = result.error.message;
  $('#activity').hidden = false;
  clients.urql.subscription(LESSON_CHANGES, { after: null }).subscribe((r) => {
    if (r.data) showLessonChange(r.data.lessonStatusChanged);
    if (r.error) logEvent(`error: ${r.error.message}`);
  });
  for (const course of courses)
    clients.urql.subscription(COURSE_STATS, { courseId: course.id }).subscribe((r) => {
      if (r.data) showStats(course.id, r.data.courseStatsChanged);
    });
}

function courseCard(course: DashboardCourse): HTMLElement {
  const card = document.createElement('section');
  card.className = 'course';
  card.dataset.courseId = course.id;
  const title = document.createElement('h2');
  title.textContent = `${course.title} (${course.status.toLowerCase()})`;
  const stats = document.createElement('div');
  stats.className = 'stats';
  stats.textContent = 'statistics: waiting for the first message';
  const lessons = document.createElement('ul');
  lessons.className = 'lessons';
  lessons.append(...course.lessons.edges.map((e) => lessonItem(e.node.id, e.node.title, e.node.status)));
  card.append(title, stats, lessons);
  return card;
}

function lessonItem(id: string, title: string, status: string): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset.lessonId = id;
  const name = document.createElement('span');
  name.textContent = title;
  const badge = document.createElement('span');
  badge.className = 'status';
  badge.dataset.status = status;
  badge.textContent = status;
  item.append(name, badge);
  return item;
}

function showLessonChange(change: LessonChange) {
  const { lesson } = change;
  let item = document.querySelector<HTMLLIElement>(`li[data-lesson-id="${CSS.escape(lesson.id)}"]`);
  if (!item) {
    item = lessonItem(lesson.id, lesson.title, change.status);
    document.querySelector(`section[data-course-id="${CSS.escape(lesson.course.id)}"] .lessons`)?.append(item);
  }
  const badge = item.querySelector<HTMLSpanElement>('.status')!;
  badge.dataset.status = change.status;
  badge.textContent = change.status;
  item.classList.remove('changed');
  void item.offsetWidth; // restarts the highlight
  item.classList.add('changed');
  logEvent(`${lesson.title}: ${change.previousStatus ?? 'created'} → ${change.status}`, change.cursor);
}

function showStats(courseId: string, stats: CourseStats) {
  const box = document.querySelector<HTMLDivElement>(`section[data-course-id="${CSS.escape(courseId)}"] .stats`);
  if (!box) return;
  const parts: Array<[string, string]> = [
    ['active-enrollments', `${stats.activeEnrollments} enrolled`],
    ['average-progress', `${stats.averageProgressPercent.toFixed(1)}% average progress`],
    ['students-completed', `${stats.studentsCompleted} completed`],
  ];
  box.replaceChildren(
    ...parts.map(([key, text]) => {
      const span = document.createElement('span');
      span.dataset.stat = key;
      span.textContent = text;
      return span;
    }),
  );
}

function logEvent(text: string, cursor?: string) {
  const entry = document.createElement('li');
  entry.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  if (cursor) entry.dataset.cursor = cursor;
  const list = $('#events');
  list.prepend(entry);
  while (list.children.length > 50) list.lastElementChild!.remove();
}
