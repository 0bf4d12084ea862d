/** bench/results/scale.md from the soak's result. */

interface Part {
  requests: number;
  errors: Record<string, number>;
  p50: number;
  p99: number;
}

interface Result {
  date: string;
  machine: {
    node: string;
    cpus: number;
    cpuModel?: string | undefined;
    loadAverage: { before: number[]; after: number[] };
  };
  settings: {
    seconds: number;
    subscribers: number;
    subscribeWithAfterFromTheStart: boolean;
    liveCourses: number;
    faultSeconds: number;
    ratesPerSecond: Record<string, number>;
  };
  subscribersConnectMs: number;
  faults: Record<string, unknown>;
  phases: Array<{
    phase: string;
    startsAtS: number;
    seconds: number;
    events: Array<{ at: number; what: string }>;
    reads: Part;
    writes: Part;
    liveDeliveryMs: { deliveries: number; p50: number; p99: number; max: number };
  }>;
  checks: {
    acknowledged: Record<string, number>;
    acknowledgedMissing: Record<string, number>;
    notifications: Record<string, number>;
    live: Record<string, unknown> & { problems: string[] };
    subscribersSettledMs: number;
    notificationsSettledMs: number;
  };
  staleReads: { probes: number; stale: unknown[]; readErrors: number };
  dbReadsBySurvivingApis: Record<string, Record<string, number>>;
  loadFailures: string[];
}

const errors = (e: Record<string, number>) =>
  Object.entries(e)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || '0';
const pct = (part: Part) =>
  part.requests ? ((100 * Object.values(part.errors).reduce((a, b) => a + b, 0)) / part.requests).toFixed(2) : '0';

export function markdown(r: Result): string {
  const c = r.checks;
  const rows = r.phases
    .map(
      (p) =>
        `| ${p.phase} | ${p.startsAtS} | ${p.seconds} | ${p.reads.requests} | ${p.reads.p50} / ${p.reads.p99} | ${errors(p.reads.errors)} (${pct(p.reads)} %) | ${p.writes.requests} | ${p.writes.p50} / ${p.writes.p99} | ${errors(p.writes.errors)} (${pct(p.writes)} %) | ${p.liveDeliveryMs.deliveries} | ${p.liveDeliveryMs.p50} / ${p.liveDeliveryMs.p99} |`,
    )
    .join('\n');
  const timeline = r.phases.flatMap((p) => p.events.map((e) => `- ${e.at} s: ${e.what}`)).join('\n');
  const n = c.notifications;
  const l = c.live;
  return `# Failover soak (\`npm run bench:scale\`)

${r.date}: ${r.settings.seconds} s of mixed load, ${r.settings.subscribers} live subscribers on ${r.settings.liveCourses} courses
(${r.settings.subscribeWithAfterFromTheStart ? 'each subscribed with `after` from the start' : 'each subscribed live first, with `after` when it reconnects'}),
faults of ${r.settings.faultSeconds} s. Node ${r.machine.node}, ${r.machine.cpus} CPUs (${r.machine.cpuModel ?? '?'}), load average
(1/5/15 min) before ${r.machine.loadAverage.before.join(' / ')}, after ${r.machine.loadAverage.after.join(' / ')}. Everything
ran on this one machine: a 6-node Redis Cluster (3 masters + 3 replicas), a Postgres primary and
one streaming replica, 3 API and 2 worker processes (dist/), the SMTP sink and all clients.
Paced load (per second): ${Object.entries(r.settings.ratesPerSecond)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}. Raw numbers: scale.json.

## Per phase

Each fault opens a phase that lasts until the next one (the fault itself ${r.settings.faultSeconds} s, then recovery).
Latencies in ms (p50 / p99) of requests started in the phase; live delivery: commit (\`lesson_events.changed_at\`)
to arrival at the subscriber, for events committed in the phase.

| phase | starts at (s) | length (s) | reads | read p50 / p99 | read errors | writes | write p50 / p99 | write errors | live deliveries | live p50 / p99 |
|---|---|---|---|---|---|---|---|---|---|---|
${rows}

Timeline:
${timeline}

Measured: ${JSON.stringify(r.faults)}; ${r.settings.subscribers} subscribers connected in ${r.subscribersConnectMs} ms before the run.

## Checks (against the primary, after the load stopped)

- Acknowledged writes: ${Object.entries(c.acknowledged)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}; missing: **${errors(c.acknowledgedMissing)}**.
- In-app notifications: ${n.rows} rows for ${n.expected} expected; missing **${n.inAppMissing}**, duplicates **${n.inAppDuplicates}**, other rows ${n.unexpectedRows}.
- Email: ${n.emailsReceived} messages at the SMTP sink; notifications without an email **${n.emailMissing}**, duplicate emails **${n.emailDuplicates}**
  (docs/operations.md: a duplicate only when a worker dies between the SMTP server's accept and the stamp; no worker is killed here); ${n.stampedEmailed} rows stamped emailed.
- Live: ${l.subscribers} subscribers, ${l.eventsLogged} events logged, ${l.deliveriesExpected} deliveries expected.
  Exactly once and in order: **${Number(l.exactNeverReconnected) + Number(l.exactAfterReconnecting)}** of ${l.subscribers}
  (${l.exactAfterReconnecting} of them after reconnecting to another API and resuming with \`after\`; ${l.reconnections} reconnections, ${l.resumedWithAfter} from a received event's cursor).
  Missing events ${l.eventsMissing} (${l.withMissing} subscribers: ${l.withMissingNeverReconnected} never reconnected, ${l.withMissingReconnected} reconnected; by the phase they were committed in: ${JSON.stringify(l.missingByPhase)}), twice ${l.eventsDuplicated} (${l.withDuplicates}), out of order ${l.outOfOrder}, not in the log ${l.unexpected}, server errors ${l.serverErrors}.
${l.problems.map((p) => `  - ${p}`).join('\n')}
- Stale cached reads after an acknowledged write: **${r.staleReads.stale.length}** of ${r.staleReads.probes} probes (read errors ${r.staleReads.readErrors}).
- Settling after the load: subscribers ${c.subscribersSettledMs} ms, notifications and emails ${c.notificationsSettledMs} ms.
- Database reads by target (counters of the API processes alive at the end; the restarted one counts from its restart):
${Object.entries(r.dbReadsBySurvivingApis)
  .map(([k, v]) => `  - ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
${r.loadFailures.length ? `\nClient-side failures (exceptions in the load loops): ${r.loadFailures.join('; ')}\n` : ''}`;
}
