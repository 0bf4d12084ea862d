import { Directive, Field, ObjectType, registerEnumType } from '../../graphql/type-graphql.js';
import { cacheControl } from '../../cache/cache-control.js';
import { connectionOf, Node } from '../../graphql/relay.types.js';
import { DateTime } from '../../graphql/scalars.js';
import { NOTIFICATION_KINDS, type NotificationKind as NotificationKindValue } from './notification.table.js';

const NotificationKind = Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, k])) as {
  [K in NotificationKindValue]: K;
};
registerEnumType(NotificationKind, {
  name: 'NotificationKind',
  valuesConfig: { LESSON_REMINDER: { description: 'A scheduled lesson starts soon (REMINDER_LEAD_MINUTES before).' } },
});

@ObjectType('Notification', {
  implements: Node,
  description: 'Something that happened which concerns the viewer. Only its recipient can read it.',
})
@Directive(cacheControl({ maxAge: 0, scope: 'PRIVATE' }))
export class Notification extends Node {
  @Field(() => NotificationKind)
  kind!: NotificationKindValue;

  @Field(() => String)
  title!: string;

  @Field(() => String)
  body!: string;

  @Field(() => DateTime, { nullable: true, description: 'Null while unread.' })
  readAt!: Date | null;

  @Field(() => DateTime)
  createdAt!: Date;
}

export const NotificationConnection = connectionOf('Notification', Notification);
