import type { Db } from '../../db/client.js';
import { Topics } from '../../pubsub/topics.js';
import { lastLessonEventSeq, lessonEventsAfter } from './lesson-event.repository.js';
import { eventOfRow, type LessonStatusChangedEvent } from './lesson.events.js';

/** Read from the log per step of a heal. */
const HEAL_PAGE = 500;

/**
 * What a live event is to a topic: the next of its course (`DELIVER`), one delivered already or
 * older than the topic (`STALE`), or one whose predecessor never arrived (`GAP`).
 */
type Arrival = 'DELIVER' | 'STALE' | 'GAP';

/**
 * What one live topic of this instance has delivered, per course, so that a loss in pub/sub is
 * healed from the durable `lesson_events` log: every missed event once, in log order, before
 * anything later of its course. A loss shows in two ways: the subscriber connection dropped
 * (`gapped`, set by the bus), or an event arrives whose predecessor in its course's chain
 * (`prevSeq`) is not the last one delivered. Each course's events are logged under its row
 * lock, so `seq` order is commit order and the chain has no forks
 * (docs/decisions/live-gap-healing.md).
 */
export class TopicDeliveries {
  /** The log's course behind the topic; null: every course. */
  readonly courseId: string | null;
  /** Set when the connection dropped; events are then taken from the log until healed. */
  gapped = false;
  /**
   * The log's last event when the topic was subscribed: nothing at or before it is expected
   * live, everything after it is (it was committed, so published, after the subscription).
   */
  private baseline = 0;
  /**
   * Per course, the last event delivered (a course not in it: `baseline`). One entry per course
   * heard from while the topic is subscribed: a single one, but for the all-courses topic.
   */
  private readonly heads = new Map<string, number>();
  /** The highest event delivered. */
  private lastSeq = 0;

  constructor(topic: string) {
    this.courseId = topic === Topics.lessonStatusAll ? null : topic.slice(Topics.lessonStatus('').length);
  }

  /** Reads the baseline; called once the topic's subscription is active. */
  async start(db: Db): Promise<void> {
    this.baseline = this.lastSeq = await lastLessonEventSeq(db, this.courseId);
  }

  private head(courseId: string): number {
    return this.heads.get(courseId) ?? this.baseline;
  }

  arrival(event: LessonStatusChangedEvent): Arrival {
    const head = this.head(event.courseId);
    if (event.seq <= head) return 'STALE';
    // Published by a version that did not chain its events: nothing to check it against.
    if (event.prevSeq === undefined) return 'DELIVER';
    return (event.prevSeq ?? 0) <= head ? 'DELIVER' : 'GAP';
  }

  /**
   * The last logged event this topic has not delivered, from the log's last events (see
   * `lastLessonEventSeqs`), or 0 when it is up to date. The all-courses topic compares the log's
   * last event with the highest it delivered: a course's earlier loss there shows by its chain.
   */
  undelivered(logged: { byCourse: ReadonlyMap<string, number>; all: number }): number {
    if (this.courseId === null) return logged.all > this.lastSeq ? logged.all : 0;
    const last = logged.byCourse.get(this.courseId) ?? 0;
    return last > this.head(this.courseId) ? last : 0;
  }

  /** Whether the topic has delivered (or skipped as older than itself) the event `seq`. */
  reached(seq: number): boolean {
    return this.courseId === null ? this.lastSeq >= seq : this.head(this.courseId) >= seq;
  }

  delivered(event: LessonStatusChangedEvent): void {
    this.heads.set(event.courseId, event.seq);
    if (event.seq > this.lastSeq) this.lastSeq = event.seq;
  }

  /**
   * The logged events not yet delivered, in order: of `courseId` after its last delivered one,
   * or (no course: after a dropped connection) of the topic's courses after the last delivered.
   * A course whose earlier event is still missing then shows a gap on its next event.
   */
  async missed(db: Db, courseId?: string): Promise<LessonStatusChangedEvent[]> {
    const course = courseId ?? this.courseId;
    let from = course === null ? this.lastSeq : this.head(course);
    const events: LessonStatusChangedEvent[] = [];
    for (;;) {
      const rows = await lessonEventsAfter(db, course === null ? null : [course], from, HEAL_PAGE);
      for (const row of rows) if (row.seq > this.head(row.courseId)) events.push(eventOfRow(row));
      if (rows.length < HEAL_PAGE) return events;
      from = rows.at(-1)!.seq;
    }
  }
}
