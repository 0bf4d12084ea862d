import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of Postgres that records every protocol message (its one-letter type)
 * in the order the proxy sees them, from the app and from the database. It shows what a
 * statement count cannot: which statements travel together, and how many times the app waits
 * for the database before it can send the next ones (round trips).
 */
export interface WireEvent {
  /** Which proxied connection. */
  readonly conn: number;
  readonly from: 'app' | 'db';
  /** The message type: `E` Execute, `B` Bind, `P` Parse, `Q` simple query; `C` CommandComplete... */
  readonly type: string;
}

export interface PgWireLog {
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  route(databaseUrl: string): string;
  /** The events recorded since the last `reset`. */
  events(): readonly WireEvent[];
  reset(): void;
  close(): Promise<void>;
}

export async function startPgWireLog(upstreamUrl: string): Promise<PgWireLog> {
  const upstream = new URL(upstreamUrl);
  let log: WireEvent[] = [];
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((app) => {
    const conn = next++;
    const db = connect(Number(upstream.port || 5432), upstream.hostname);
    sockets.add(app).add(db);
    app.pipe(db);
    db.pipe(app);
    const close = () => {
      app.destroy();
      db.destroy();
    };
    for (const s of [app, db]) {
      s.on('error', close);
      s.on('close', () => {
        sockets.delete(s);
        close();
      });
    }
    app.on('data', reader(conn, 'app', true));
    db.on('data', reader(conn, 'db', false));
  });
  const reader = (conn: number, from: 'app' | 'db', startup: boolean) => {
    let pending: Buffer = Buffer.alloc(0);
    return (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        if (startup) {
          // Startup and SSLRequest messages have no type byte.
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          const code = pending.readInt32BE(4);
          if (code !== 80877103 && code !== 80877104) startup = false;
          pending = pending.subarray(length);
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1);
        if (pending.length < length + 1) return;
        log.push({ conn, from, type: String.fromCharCode(pending[0]!) });
        pending = pending.subarray(length + 1);
      }
    };
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    route(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    events: () => log,
    reset() {
      log = [];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Statements the app had the database run (extended-protocol Executes and simple queries). */
export function statementsOf(events: readonly WireEvent[]): number {
  return events.filter((e) => e.from === 'app' && (e.type === 'E' || e.type === 'Q')).length;
}

/**
 * How many times the app sent statements after waiting for an answer: each run of messages
 * from the app that follows a message from the database (or starts the log) is one round
 * trip. A statement whose parameter types postgres.js must ask for first costs two.
 */
export function roundTripsOf(events: readonly WireEvent[]): number {
  let trips = 0;
  let answered = true;
  for (const e of events) {
    if (e.from === 'db') answered = true;
    else if (answered && 'QPBE'.includes(e.type)) {
      trips++;
      answered = false;
    }
  }
  return trips;
}

/** The statements the app sent before the first row or result came back. */
export function statementsBeforeFirstResultOf(events: readonly WireEvent[]): number {
  const first = events.findIndex((e) => e.from === 'db' && (e.type === 'D' || e.type === 'C'));
  return statementsOf(first < 0 ? events : events.slice(0, first));
}
