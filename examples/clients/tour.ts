// A tour of the four client recipes against a running API: what `npm run example:recipes`
// runs. Each step uses one recipe exactly as docs/clients.md shows it.
import { fetchQuery } from 'relay-runtime';
import CatalogQuery, { type relayCatalogQuery } from '../relay/__generated__/relayCatalogQuery.graphql.js';
import { CatalogDocument, CourseByIdDocument, LoginDocument, MeDocument } from '../generated/graphql.js';
import { createEduFlowClient } from './apollo-client.js';
import { createEduFlowSocket } from './graphql-ws.js';
import { createEduFlowRelayEnvironment } from './relay.js';
import { createEduFlowUrqlClient } from './urql.js';

export interface TourOptions {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql. */
  readonly apiUrl: string;
  /** An instructor's sign-in (the demo instructor by default, in run.ts). */
  readonly email: string;
  readonly password: string;
  readonly log: (line: string) => void;
}

const TAUGHT = `query Taught { me { coursesTaught(first: 1) { edges { node { id title } } } } }`;
const LESSONS = `subscription Lessons($c: ID) { lessonStatusChanged(courseId: $c) { previousStatus status lesson { title } } }`;
const CREATE = `mutation Create($c: ID!) { createLesson(input: { courseId: $c, title: "Client recipe tour" }) { id } }`;
const RESCHEDULE = `mutation Reschedule($id: ID!, $at: DateTime!) { rescheduleLesson(id: $id, scheduledAt: $at) { id } }`;
const DELETE = `mutation Delete($id: ID!) { deleteLesson(id: $id) }`;

export async function runClientTour({ apiUrl, email, password, log }: TourOptions): Promise<void> {
  // Apollo Client: sign in, then the token goes on every request.
  let token: string | undefined;
  const apollo = createEduFlowClient(apiUrl, () => token);
  try {
    const login = await apollo.mutate({ mutation: LoginDocument, variables: { input: { email, password } } });
    token = login.data!.login.accessToken;
    const me = await apollo.query({ query: MeDocument, fetchPolicy: 'network-only' });
    log(`Apollo Client: signed in as ${me.data!.me!.displayName} (${me.data!.me!.role})`);
    const page = await apollo.query({ query: CatalogDocument, variables: { first: 3 } });
    const titles = page.data!.courses.edges.map((e) => e.node.title).join(', ');
    log(`Apollo Client: ${page.data!.courses.totalCount} courses; the first three: ${titles}`);
  } finally {
    apollo.stop();
  }

  // urql: POST for queries (the API refuses GET without a preflight header), a node refetch.
  const urql = createEduFlowUrqlClient(apiUrl, () => token);
  let course: { id: string; title: string };
  try {
    const catalog = await urql.client.query(CatalogDocument, { first: 1 }).toPromise();
    if (catalog.error) throw catalog.error;
    const id = catalog.data!.courses.edges[0]!.node.id;
    const node = await urql.client.query(CourseByIdDocument, { id }).toPromise();
    if (node.error) throw node.error;
    log(`urql: node(id: "${id}") is the course ${JSON.stringify(node.data!.node)}`);
    const taught = await urql.client.query<{ me: { coursesTaught: { edges: Array<{ node: typeof course }> } } }>(
      TAUGHT,
      {},
    );
    if (taught.error) throw taught.error;
    const first = taught.data!.me.coursesTaught.edges[0];
    if (!first) throw new Error(`${email} teaches no course: sign in as an instructor (EDUFLOW_EMAIL)`);
    course = first.node;
  } finally {
    await urql.dispose();
  }

  // Relay: records normalised by their global id.
  const environment = createEduFlowRelayEnvironment(apiUrl, () => token);
  const relay = await fetchQuery<relayCatalogQuery>(environment, CatalogQuery, { first: 2 }).toPromise();
  const record = environment.getStore().getSource().get(relay!.courses.edges[0]!.node.id);
  log(`Relay: the store holds ${record?.__typename} ${record?.__id} ("${String(record?.title)}")`);

  // graphql-ws: the lessons of a course taught, live. A subscription is registered on the
  // server a moment after it is sent and nothing acknowledges it, so the tour changes its own
  // lesson until an event arrives, then deletes that lesson again.
  const socket = createEduFlowSocket(apiUrl, token);
  const events = socket.iterate({ query: LESSONS, variables: { c: course.id } });
  const gql = graphqlPost(apiUrl, token!);
  let lessonId: string | undefined;
  try {
    const next = events.next();
    lessonId = ((await gql(CREATE, { c: course.id })) as { createLesson: { id: string } }).createLesson.id;
    for (let day = 1; ; day++) {
      const event = await Promise.race([next, new Promise((r) => setTimeout(r, 500, undefined))]);
      if (event) {
        log(`graphql-ws: in "${course.title}": ${JSON.stringify((event as IteratorResult<unknown>).value)}`);
        break;
      }
      if (day > 20) throw new Error('no lessonStatusChanged event arrived');
      await gql(RESCHEDULE, { id: lessonId, at: new Date(Date.now() + day * 86_400_000).toISOString() });
    }
  } finally {
    await events.return?.();
    await socket.dispose();
    if (lessonId) await gql(DELETE, { id: lessonId });
  }
}

/** Plain fetch for the tour's own changes (not a recipe). */
function graphqlPost(apiUrl: string, token: string) {
  return async (query: string, variables: Record<string, unknown>): Promise<unknown> => {
    const res = await fetch(apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> };
    if (body.errors) throw new Error(body.errors.map((e) => e.message).join('; '));
    return body.data;
  };
}
