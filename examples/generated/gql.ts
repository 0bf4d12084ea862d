/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      displayName\n      role\n    }\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      displayName\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    displayName\n    role\n  }\n}": typeof types.RegisterDocument,
    "query Catalog($first: Int = 5, $after: String) {\n  courses(first: $first, after: $after, orderBy: {field: TITLE, direction: ASC}) {\n    totalCount\n    edges {\n      cursor\n      node {\n        id\n        title\n        priceCents\n        instructor {\n          displayName\n        }\n        lessonCount\n        lessons(first: 3) {\n          edges {\n            node {\n              id\n              title\n              status\n              scheduledAt\n            }\n          }\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery CourseById($id: ID!) {\n  node(id: $id) {\n    id\n    ... on Course {\n      title\n      priceCents\n    }\n  }\n}": typeof types.CatalogDocument,
    "subscription LessonStatusChanged($courseId: ID) {\n  lessonStatusChanged(courseId: $courseId) {\n    previousStatus\n    status\n    changedAt\n    lesson {\n      id\n      title\n      status\n    }\n  }\n}": typeof types.LessonStatusChangedDocument,
};
const documents: Documents = {
    "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      displayName\n      role\n    }\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      displayName\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    displayName\n    role\n  }\n}": types.RegisterDocument,
    "query Catalog($first: Int = 5, $after: String) {\n  courses(first: $first, after: $after, orderBy: {field: TITLE, direction: ASC}) {\n    totalCount\n    edges {\n      cursor\n      node {\n        id\n        title\n        priceCents\n        instructor {\n          displayName\n        }\n        lessonCount\n        lessons(first: 3) {\n          edges {\n            node {\n              id\n              title\n              status\n              scheduledAt\n            }\n          }\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery CourseById($id: ID!) {\n  node(id: $id) {\n    id\n    ... on Course {\n      title\n      priceCents\n    }\n  }\n}": types.CatalogDocument,
    "subscription LessonStatusChanged($courseId: ID) {\n  lessonStatusChanged(courseId: $courseId) {\n    previousStatus\n    status\n    changedAt\n    lesson {\n      id\n      title\n      status\n    }\n  }\n}": types.LessonStatusChangedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      displayName\n      role\n    }\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      displayName\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    displayName\n    role\n  }\n}"): (typeof documents)["mutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    accessToken\n    accessTokenExpiresAt\n    refreshToken\n    user {\n      id\n      displayName\n      role\n    }\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    accessToken\n    refreshToken\n    user {\n      id\n      displayName\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    displayName\n    role\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Catalog($first: Int = 5, $after: String) {\n  courses(first: $first, after: $after, orderBy: {field: TITLE, direction: ASC}) {\n    totalCount\n    edges {\n      cursor\n      node {\n        id\n        title\n        priceCents\n        instructor {\n          displayName\n        }\n        lessonCount\n        lessons(first: 3) {\n          edges {\n            node {\n              id\n              title\n              status\n              scheduledAt\n            }\n          }\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery CourseById($id: ID!) {\n  node(id: $id) {\n    id\n    ... on Course {\n      title\n      priceCents\n    }\n  }\n}"): (typeof documents)["query Catalog($first: Int = 5, $after: String) {\n  courses(first: $first, after: $after, orderBy: {field: TITLE, direction: ASC}) {\n    totalCount\n    edges {\n      cursor\n      node {\n        id\n        title\n        priceCents\n        instructor {\n          displayName\n        }\n        lessonCount\n        lessons(first: 3) {\n          edges {\n            node {\n              id\n              title\n              status\n              scheduledAt\n            }\n          }\n        }\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery CourseById($id: ID!) {\n  node(id: $id) {\n    id\n    ... on Course {\n      title\n      priceCents\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription LessonStatusChanged($courseId: ID) {\n  lessonStatusChanged(courseId: $courseId) {\n    previousStatus\n    status\n    changedAt\n    lesson {\n      id\n      title\n      status\n    }\n  }\n}"): (typeof documents)["subscription LessonStatusChanged($courseId: ID) {\n  lessonStatusChanged(courseId: $courseId) {\n    previousStatus\n    status\n    changedAt\n    lesson {\n      id\n      title\n      status\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;