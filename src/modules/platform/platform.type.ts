import { Field, Int, ObjectType } from '../../graphql/type-graphql.js';
import { DateTime } from '../../graphql/scalars.js';
import { CourseStatus } from '../courses/index.js';
import { LessonStatusCount } from '../lessons/index.js';

@ObjectType('CourseStatusCount')
export class CourseStatusCount {
  @Field(() => CourseStatus)
  status!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType('PlatformStats', { description: 'Platform-wide counts (admins only).' })
export class PlatformStats {
  @Field(() => DateTime)
  generatedAt!: Date;

  @Field(() => Int)
  users!: number;

  @Field(() => [CourseStatusCount])
  courses!: CourseStatusCount[];

  @Field(() => [LessonStatusCount])
  lessons!: LessonStatusCount[];

  @Field(() => Int)
  activeEnrollments!: number;

  @Field(() => Int, { description: 'Notifications created in the last 24 hours.' })
  notificationsLast24h!: number;

  @Field(() => Int, { description: 'Notification emails handed to the mail server in the last 24 hours.' })
  emailsLast24h!: number;

  @Field(() => Int, { description: 'Domain events committed but not yet handed to the job queue.' })
  pendingOutboxEvents!: number;
}

@ObjectType('ActivityReport', { description: 'The daily activity report, as the scheduled job recorded it.' })
export class ActivityReport {
  @Field(() => String, { description: 'The UTC day, YYYY-MM-DD.' })
  day!: string;

  @Field(() => PlatformStats)
  stats!: PlatformStats;
}
