import { ArgsType, Directive, Field, ID, Int, InterfaceType, ObjectType, type ClassType } from './type-graphql.js';
import { cacheControl } from '../cache/cache-control.js';
import type { ComplexityEstimatorArgs } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from './pagination.js';

/** Objects returned through `node`/`nodes` carry their GraphQL type name. */
export interface Typed {
  __typename: string;
}

@InterfaceType('Node', {
  resolveType: (value: Partial<Typed>) => value.__typename,
  description: 'An object with an opaque, globally unique ID that `Query.node` resolves.',
})
export abstract class Node {
  @Field(() => ID)
  id!: string;
}

@ObjectType('PageInfo')
@Directive(cacheControl({ inheritMaxAge: true }))
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => Boolean)
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ArgsType()
export class ForwardPageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size, 1..100 (default 20).' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
export class PageArgs extends ForwardPageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size when paginating backwards, 1..100.' })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

/**
 * Query cost of a connection field: what one node costs, times the page size asked for.
 * Read by graphql-query-complexity through the field's `complexity` extension.
 */
export function connectionComplexity({ args, childComplexity }: ComplexityEstimatorArgs): number {
  const size = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
  return 1 + Math.max(1, Number.isFinite(size) ? size : DEFAULT_PAGE_SIZE) * Math.max(1, childComplexity);
}

/** `<Name>Edge` and `<Name>Connection` object types for a node type, as the contract names them. */
export function connectionOf<T extends object>(name: string, nodeType: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  @Directive(cacheControl({ inheritMaxAge: true }))
  class Edge {
    @Field(() => String)
    cursor!: string;

    @Field(() => nodeType)
    node!: T;
  }

  @ObjectType(`${name}Connection`)
  @Directive(cacheControl({ inheritMaxAge: true }))
  class Connection {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    // A promise, counted on first read. graphql-jit reads a field that has no resolver as a
    // plain value (it would try to serialize the promise), so this one keeps type-graphql's.
    @Field(() => Int, {
      simple: false,
      description: 'How many items the whole list has (counted only when asked for).',
    })
    totalCount!: number;
  }

  return Connection;
}
