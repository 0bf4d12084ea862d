import { Directive, Field, Int, ObjectType } from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { Node } from '../../graphql/relay.types.js';

@ObjectType('Section', { implements: Node, description: "A titled, ordered part of a course's curriculum." })
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class Section extends Node {
  @Field(() => String, { description: '1 to 200 characters after trimming.' })
  title!: string;

  @Field(() => Int, { description: "The section's place in its course, from 0, contiguous." })
  position!: number;
}
