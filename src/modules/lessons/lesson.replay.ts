import type { BoundedStream } from '../../pubsub/bounded-stream.js';
import type { LessonStatusChangedEvent } from './lesson.events.js';

/** Most events one resubscription may replay; further behind, the client refetches. */
export const MAX_REPLAY = 10_000;
const PAGE = 200;

/**
 * Replay, then live, with no gap and no duplicate. The live subscription is made first and
 * buffers (in `live`, bounded); the log is then read in pages from `after` on; once the log is
 * exhausted the buffered and later live events follow, minus those already replayed or at or
 * before `after`. Per course, the log's order is commit order (every write holds the course's
 * row lock while it appends), so a buffered event is either in the replay or after it.
 */
export class ReplayThenLive {
  private readonly replayed = new Set<number>();
  private page: LessonStatusChangedEvent[] = [];
  private cursor: number;
  private replayDone = false;

  constructor(
    private readonly live: BoundedStream<LessonStatusChangedEvent>,
    after: number,
    private readonly readLog: (afterSeq: number, limit: number) => Promise<LessonStatusChangedEvent[]>,
  ) {
    this.cursor = after;
    this.after = after;
  }

  private readonly after: number;

  async next(): Promise<IteratorResult<LessonStatusChangedEvent>> {
    while (!this.replayDone) {
      const event = this.page.shift();
      if (event) {
        this.replayed.add(event.seq);
        return { value: event, done: false };
      }
      this.page = await this.readLog(this.cursor, PAGE);
      if (this.page.length === 0) this.replayDone = true;
      else this.cursor = this.page[this.page.length - 1]!.seq;
    }
    for (;;) {
      const item = await this.live.next();
      if (item.done) return item;
      if (item.value.seq <= this.after || this.replayed.has(item.value.seq)) continue;
      return item;
    }
  }

  end(): void {
    this.live.end();
  }
}
