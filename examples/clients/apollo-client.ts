// Apollo Client 4 for EduFlow: queries and mutations over HTTP, subscriptions over graphql-ws,
// the Authorization header on both, and cursor paging merged by relayStylePagination.
// Tested as is by test/integration/client-recipes.test.ts.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation, relayStylePagination } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node 20 only; browsers (and Node 22+) have a global WebSocket

export function createEduFlowClient(httpUrl: string, getToken: () => string | undefined) {
  const auth = new SetContextLink((prev) => {
    const token = getToken();
    return token ? { headers: { ...prev.headers, authorization: `Bearer ${token}` } } : {};
  });
  const http = auth.concat(new HttpLink({ uri: httpUrl }));
  const ws = new GraphQLWsLink(
    createClient({
      url: httpUrl.replace(/^http/, 'ws'), // same path: /graphql
      webSocketImpl: WebSocket,
      // Read when the socket (re)connects, so a fresh token is used after signing in.
      connectionParams: () => {
        const token = getToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    }),
  );
  return new ApolloClient({
    link: ApolloLink.split(({ query }) => isSubscriptionOperation(query), ws, http),
    cache: new InMemoryCache({
      typePolicies: {
        // One cached list per ordering; fetchMore({ variables: { after } }) appends pages.
        Query: { fields: { courses: relayStylePagination(['orderBy', 'filter']) } },
      },
    }),
  });
}
