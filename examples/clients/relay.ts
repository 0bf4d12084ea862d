// Relay (relay-runtime 21) for EduFlow: a network layer that POSTs to /graphql with the
// Authorization header. Records are normalised by their global `id`, which EduFlow makes
// unique across types, and `node(id:)` refetches any of them. Operations are compiled by
// relay-compiler (`npm run relay`, see relay.config.json). Tested by client-recipes.test.ts.
import { Environment, Network, RecordSource, Store, type FetchFunction, type GraphQLResponse } from 'relay-runtime';

export function createEduFlowRelayEnvironment(httpUrl: string, getToken: () => string | undefined) {
  const fetchFn: FetchFunction = async (request, variables) => {
    const token = getToken();
    const response = await fetch(httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: request.text, operationName: request.name, variables }),
    });
    return (await response.json()) as GraphQLResponse;
  };
  return new Environment({ network: Network.create(fetchFn), store: new Store(new RecordSource()) });
}
