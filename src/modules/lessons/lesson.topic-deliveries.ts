import type { Db } from '../../db/client.js';
import { Topics } from '../../pubsub/topics.js';
import { lastLessonEventSeqBefore, lessonEventsAfter } from './lesson-event.repository.js';
import { eventOfRow, type LessonStatusChangedEvent } from './lesson.events.js';

/** Events of a topic remembered as delivered (to drop the live copy of one healed from the log). */
const REMEMBERED = 1_024;
/** Read from the log per step of a heal. */
const HEAL_PAGE = 500;
/**
 * A topic that had delivered nothing before its connection dropped heals from events logged
 * this long before the drop: one committed just before may still have been on its way.
 */
const HEAL_MARGIN_MS = 2_000;

/**
 * What one live topic of this instance has delivered, so that a gap in pub/sub (the
 * subscriber connection dropped: whatever was published meanwhile never arrived) is healed
 * from the durable `lesson_events` log: every missed event once, in log order, and the live
 * copy of one already healed dropped.
 */
export class TopicDeliveries {
  /** The log's courses behind the topic; null: every course. */
  readonly courseIds: string[] | null;
  /** Set when the connection dropped; events are then taken from the log until healed. */
  gapped = false;
  private readonly seen = new Set<number>();
  private lastSeq: number | undefined;
  private readonly since = Date.now();

  constructor(topic: string) {
    this.courseIds = topic === Topics.lessonStatusAll ? null : [topic.slice(Topics.lessonStatus('').length)];
  }

  has(seq: number): boolean {
    return this.seen.has(seq);
  }

  remember(seq: number): void {
    this.seen.add(seq);
    if (this.seen.size > REMEMBERED) this.seen.delete(this.seen.values().next().value!);
    if (this.lastSeq === undefined || seq > this.lastSeq) this.lastSeq = seq;
  }

  /** The topic's logged events after the last one delivered (or since shortly before `droppedAt`), not yet delivered. */
  async missed(db: Db, droppedAt: number): Promise<LessonStatusChangedEvent[]> {
    let from = this.lastSeq ?? (await lastLessonEventSeqBefore(db, Math.max(this.since, droppedAt - HEAL_MARGIN_MS)));
    const events: LessonStatusChangedEvent[] = [];
    for (;;) {
      const rows = await lessonEventsAfter(db, this.courseIds, from, HEAL_PAGE);
      for (const row of rows) if (!this.seen.has(row.seq)) events.push(eventOfRow(row));
      if (rows.length < HEAL_PAGE) return events;
      from = rows.at(-1)!.seq;
    }
  }
}
