// Relay operations, compiled by `npm run relay` (relay-compiler) into ./__generated__.
// These tagged templates are the compiler's input only: at run time import the artifacts
// (with babel-plugin-relay, `graphql` tags are replaced by them automatically).
import { graphql } from 'relay-runtime';

export const catalog = graphql`
  query relayCatalogQuery($first: Int!) {
    courses(first: $first, orderBy: { field: TITLE, direction: ASC }) {
      edges {
        node {
          id
          title
        }
      }
    }
  }
`;

export const courseNode = graphql`
  query relayCatalogNodeQuery($id: ID!) {
    node(id: $id) {
      id
      ... on Course {
        title
        priceCents
      }
    }
  }
`;
