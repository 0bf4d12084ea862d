import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { withTimeout } from '../util/with-timeout.js';

/** Operation names come from clients: only tidy ones become label values, and only so many. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_NAMES = 200;

export interface MetricSources {
  wsConnections?: () => number;
  wsSubscriptions?: () => number;
  wsLiveSubscriptions?: () => number;
  cache?: () => {
    hits: number;
    earlyHits?: number;
    misses: number;
    bypasses: number;
    invalidations: number;
    errors: number;
  };
  queueCounts?: () => Promise<Record<string, Record<string, number>>>;
  constantAnswers?: () => number;
  knownQueries?: () => number;
}

/**
 * Prometheus metrics (prom-client), served at GET /metrics: HTTP and GraphQL latency, errors by
 * code, WebSocket connections and subscriptions, events delivered, cache outcomes, queue depth
 * and job outcomes, SQL statements, and the process (CPU, memory, event loop, GC).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly names = new Set<string>();

  readonly httpDuration = new Histogram({
    name: 'eduflow_http_request_duration_seconds',
    help: 'HTTP requests by method, path and status.',
    labelNames: ['method', 'path', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly operationDuration = new Histogram({
    name: 'eduflow_graphql_operation_duration_seconds',
    help: 'GraphQL operations over HTTP by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'eduflow_graphql_errors_total',
    help: 'GraphQL errors by extensions.code (HTTP and WebSocket).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly jitCompilations = new Counter({
    name: 'eduflow_graphql_jit_compilations_total',
    help: 'Query documents compiled by graphql-jit (each once, from its GRAPHQL_JIT_AFTER-th execution).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly eventsDelivered = new Counter({
    name: 'eduflow_subscription_events_delivered_total',
    help: 'Subscription events sent to clients.',
    registers: [this.registry],
  });
  readonly jobs = new Counter({
    name: 'eduflow_jobs_total',
    help: 'Background job runs by queue job name and outcome (completed, failed).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'eduflow_job_duration_seconds',
    help: 'Background job run time by job name.',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly sqlStatements = new Counter({
    name: 'eduflow_db_statements_total',
    help: 'SQL statements sent to the database.',
    registers: [this.registry],
  });
  readonly replicaLag = new Gauge({
    name: 'eduflow_db_replica_lag_seconds',
    help: 'Replay lag of each read replica at its last health check (-1: not answering).',
    labelNames: ['replica'] as const,
    registers: [this.registry],
  });
  readonly dbReads = new Counter({
    name: 'eduflow_db_reads_total',
    help: "Queries' reads outside transactions by where they ran (primary, replica); only with DATABASE_REPLICA_URLS.",
    labelNames: ['target'] as const,
    registers: [this.registry],
  });
  readonly replicaFallbacks = new Counter({
    name: 'eduflow_db_replica_fallbacks_total',
    help: 'Reads that could have used a replica but ran on the primary, by reason (unavailable, behind, position_unknown, cache_fill, error).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** `sources` may be filled in later (the composition root builds them after the metrics). */
  constructor(sources: MetricSources = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'eduflow_' });
    const gauge = (name: string, help: string, read: () => number | undefined) => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read() ?? 0);
        },
      });
    };
    gauge(
      'eduflow_http_constant_answers',
      'Queries answered by their document alone ({ __typename }) before Apollo, since start.',
      () => sources.constantAnswers?.(),
    );
    gauge(
      'eduflow_http_known_queries',
      "Queries Apollo answered before, executed again without Apollo's pipeline (response cache off), since start.",
      () => sources.knownQueries?.(),
    );
    gauge('eduflow_ws_connections', 'Open WebSocket connections.', () => sources.wsConnections?.());
    gauge('eduflow_ws_subscriptions', 'Active GraphQL subscriptions.', () => sources.wsSubscriptions?.());
    gauge(
      'eduflow_ws_live_subscriptions',
      'Subscriptions authorized and listening, served by the fan-out (accepted ones still being checked are not counted).',
      () => sources.wsLiveSubscriptions?.(),
    );
    {
      const read = () => sources.cache?.() ?? { hits: 0, misses: 0, bypasses: 0, invalidations: 0, errors: 0 };
      new Gauge({
        name: 'eduflow_response_cache_events',
        help: 'Response cache outcomes since start (hit, of which early_hit answered before Apollo; miss, bypass, invalidation, error).',
        labelNames: ['outcome'] as const,
        registers: [this.registry],
        collect() {
          const s = read();
          this.set({ outcome: 'hit' }, s.hits);
          this.set({ outcome: 'early_hit' }, s.earlyHits ?? 0);
          this.set({ outcome: 'miss' }, s.misses);
          this.set({ outcome: 'bypass' }, s.bypasses);
          this.set({ outcome: 'invalidation' }, s.invalidations);
          this.set({ outcome: 'error' }, s.errors);
        },
      });
    }
    {
      const read = () => sources.queueCounts?.() ?? Promise.resolve({});
      new Gauge({
        name: 'eduflow_queue_jobs',
        help: 'Jobs per queue and state (waiting, active, delayed, failed, completed).',
        labelNames: ['queue', 'state'] as const,
        registers: [this.registry],
        async collect() {
          // Bounded: a Redis that stopped answering must not hang /metrics.
          const counts = await withTimeout(read(), 1_000, 'reading queue counts').catch(
            () => ({}) as Record<string, Record<string, number>>,
          );
          for (const [queue, states] of Object.entries(counts))
            for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        },
      });
    }
  }

  operationLabel(name: string | null | undefined): string {
    if (!name || !NAME.test(name)) return name ? 'other' : 'anonymous';
    if (this.names.has(name)) return name;
    if (this.names.size >= MAX_OPERATION_NAMES) return 'other';
    this.names.add(name);
    return name;
  }
}
