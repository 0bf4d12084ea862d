/**
 * The clients of `npm run bench:scale`: GraphQL over HTTP against whichever API answers (a
 * client that finds one refusing connections goes to the next, as a client behind DNS
 * round-robin would), every request timed and labelled with the phase it started in; and live
 * subscribers on graphql-transport-ws that, when their socket drops, reconnect to another API
 * and resume with `after` = the cursor of the last event they got.
 */
import WebSocket from 'ws';
import { decodeEventCursor } from '../src/modules/lessons/lesson.events.js';

export interface Sample {
  phase: string;
  kind: 'read' | 'write';
  op: string;
  ms: number;
  /** Absent: success. Else extensions.code of the first error, HTTP_<status>, or NETWORK. */
  code?: string;
}

export interface GqlResult {
  data?: any;
  code?: string;
}

export class Apis {
  /** The API URLs; an entry is replaced when a killed API is started again. */
  urls: string[] = [];
  private next = 0;
  /** URL → time until which this client avoids it (it refused a connection). */
  private readonly avoid = new Map<string, number>();
  readonly samples: Sample[] = [];
  /** The first error messages of each operation and code, for the report. */
  readonly examples = new Map<string, string>();

  constructor(private readonly phase: () => string) {}

  private pick(): string {
    const now = Date.now();
    for (let i = 0; i < this.urls.length; i++) {
      const url = this.urls[this.next++ % this.urls.length]!;
      if ((this.avoid.get(url) ?? 0) <= now) return url;
    }
    return this.urls[this.next++ % this.urls.length]!;
  }

  /**
   * One operation, timed. A refused connection (the request never reached an API) is retried
   * once on another API, for writes too: nothing can have happened. Any other failure is the
   * answer.
   */
  async gql(kind: Sample['kind'], op: string, query: string, variables: Record<string, unknown>, token?: string) {
    const phase = this.phase();
    const started = performance.now();
    let result = await this.once(query, variables, token);
    if (result.refused) result = await this.once(query, variables, token);
    const sample: Sample = { phase, kind, op, ms: performance.now() - started };
    if (result.code) {
      sample.code = result.code;
      if (!this.examples.has(`${op} ${result.code}`)) this.examples.set(`${op} ${result.code}`, result.message ?? '');
    }
    this.samples.push(sample);
    return result as GqlResult;
  }

  private async once(query: string, variables: Record<string, unknown>, token?: string) {
    const url = this.pick();
    try {
      const res = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(20_000),
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json().catch(() => ({}))) as {
        data?: any;
        errors?: Array<{ message?: string; extensions?: { code?: string } }>;
      };
      const code = body.errors?.length
        ? (body.errors[0]!.extensions?.code ?? 'UNKNOWN')
        : res.status !== 200
          ? `HTTP_${res.status}`
          : undefined;
      return { data: body.data, code, message: body.errors?.[0]?.message, refused: false };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const refused = cause === 'ECONNREFUSED';
      if (refused) this.avoid.set(url, Date.now() + 5_000);
      return { data: undefined, code: refused ? 'NETWORK_REFUSED' : 'NETWORK', message: String(err), refused };
    }
  }
}

const SUB = `subscription($c: ID, $after: String) {
  lessonStatusChanged(courseId: $c, after: $after) { cursor status lesson { id } }
}`;

/** A student following one course's lessons live, from a cursor, across API deaths. */
export class LiveSubscriber {
  /** The log position (`lesson_events.seq`) of each event received, in arrival order. */
  readonly seqs: number[] = [];
  /** Date.now() at each arrival (same index as `seqs`). */
  readonly arrivals: number[] = [];
  reconnects = 0;
  /** Reconnections that resumed from an event received (`after` = its cursor). */
  resumes = 0;
  errors: string[] = [];
  /** Acknowledged by an API, and not closed since. */
  open = false;
  /** The API it connected to last, and first. */
  apiUrl = '';
  firstApiUrl = '';
  private socket: WebSocket | undefined;
  private cursor: string;
  private stopped = false;
  private apiIndex: number;

  constructor(
    readonly studentId: string,
    readonly courseId: string,
    private readonly courseGid: string,
    private readonly token: string,
    /** The cursor of the course's event just before the measured ones. */
    readonly baselineCursor: string,
    private readonly urls: () => string[],
    firstApi: number,
    /**
     * Subscribe with `after` from the start. Off (the default), the first subscription is live
     * only, as a client that has no cursor yet makes it, and `after` is used on reconnection.
     */
    private readonly afterFromTheStart: boolean,
  ) {
    this.cursor = baselineCursor;
    this.apiIndex = firstApi;
  }

  private connections = 0;

  /** Resolves once the server acknowledged the connection (the subscription then replays from the cursor). */
  connect(): Promise<void> {
    return new Promise((resolve) => {
      const urls = this.urls();
      this.apiUrl = urls[this.apiIndex % urls.length]!;
      this.firstApiUrl ||= this.apiUrl;
      const url = this.apiUrl.replace(/^http/, 'ws');
      const socket = new WebSocket(url, 'graphql-transport-ws');
      this.socket = socket;
      let acked = false;
      const ackTimer = setTimeout(() => socket.terminate(), 15_000);
      socket.on('open', () =>
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${this.token}` } })),
      );
      socket.on('message', (raw) => {
        const msg = JSON.parse(String(raw)) as { type: string; payload?: any };
        if (msg.type === 'connection_ack') {
          acked = true;
          this.open = true;
          clearTimeout(ackTimer);
          socket.send(
            JSON.stringify({
              id: '1',
              type: 'subscribe',
              payload: {
                query: SUB,
                variables: {
                  c: this.courseGid,
                  after: this.connections++ === 0 && !this.afterFromTheStart ? null : this.cursor,
                },
              },
            }),
          );
          resolve();
        } else if (msg.type === 'next') {
          const change = msg.payload?.data?.lessonStatusChanged;
          if (!change) {
            this.errors.push(JSON.stringify(msg.payload?.errors ?? msg.payload).slice(0, 200));
            return;
          }
          this.seqs.push(decodeEventCursor(change.cursor));
          this.arrivals.push(Date.now());
          this.cursor = change.cursor;
        } else if (msg.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        } else if (msg.type === 'error' || msg.type === 'complete') {
          this.errors.push(`${msg.type}: ${JSON.stringify(msg.payload ?? null).slice(0, 200)}`);
          socket.close();
        }
      });
      socket.on('error', () => {}); // 'close' follows
      socket.on('close', () => {
        clearTimeout(ackTimer);
        this.open = false;
        if (!acked) resolve(); // counted as a reconnection below
        if (this.stopped) return;
        this.reconnects++;
        if (this.cursor !== this.baselineCursor) this.resumes++;
        this.apiIndex++; // the client's retry: the next API
        setTimeout(() => void this.connect(), 200 + Math.random() * 800);
      });
    });
  }

  close(): void {
    this.stopped = true;
    this.socket?.terminate();
  }
}
