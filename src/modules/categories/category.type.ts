import { Directive, Field, ObjectType } from '../../graphql/type-graphql.js';
import { cacheControl, CATALOG_MAX_AGE } from '../../cache/cache-control.js';
import { Node } from '../../graphql/relay.types.js';

@ObjectType('Category', {
  implements: Node,
  description: 'A catalog category. Admins manage them; a course belongs to at most one.',
})
@Directive(cacheControl({ maxAge: CATALOG_MAX_AGE }))
export class Category extends Node {
  @Field(() => String, { description: 'Lower-case letters, digits and single hyphens; unique.' })
  slug!: string;

  @Field(() => String, { description: '1 to 100 characters after trimming; unique, case-insensitively.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;
}
