import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type pg from 'pg'
import { sql } from 'kysely'
import type { Db } from '../db/database.js'
import { poolOf } from '../db/database.js'
import { observeAuditCommits } from '../audit/audit.repository.js'
import type { BigVerifierObserver } from '../big/cached-register.js'

/**
 * The service's Prometheus metrics, one registry per app (no global registry, so several apps in
 * one process, as in the tests, count apart).
 *
 * Labels are closed sets only: route patterns (`/fhir/Patient/:id/$handover`, never the path),
 * status codes, action names, decision effects and reason codes of the policy, outcome words. No
 * patient, person, organisation, token or identifier is ever a label or a value.
 */
export interface Metrics {
  registry: Registry
  httpRequests: Counter<'method' | 'route' | 'status'>
  httpDuration: Histogram<'method' | 'route' | 'status'>
  httpInFlight: Gauge
  auditGroupSize: Histogram
  auditCommitSeconds: Histogram<'outcome'>
  bigRegisterCalls: Counter<'outcome'>
  bigRegisterSeconds: Histogram<'outcome'>
  bigCacheLookups: Counter<'result'>
  accessDecisions: Counter<'action' | 'effect' | 'reason'>
  emergencyAccessOpened: Counter
  retentionRuns: Counter<'outcome'>
  notifications: Counter<'outcome'>
}

export interface MetricsOptions {
  /** The database whose pool and open emergency reviews are reported at each scrape. */
  db?: Db
  /** Node.js process metrics (CPU, memory, event-loop lag, GC): on in the service, off in tests. */
  processMetrics?: boolean
}

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'overdracht_' })
    // Gauges named like counters, which promtool's lint refuses; the same counts remain by type in
    // overdracht_nodejs_active_handles, _requests and _resources.
    for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`overdracht_nodejs_active_${kind}_total`)
  }
  const registers = [registry]

  const metrics: Metrics = {
    registry,
    httpRequests: new Counter({
      name: 'overdracht_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'overdracht_http_request_duration_seconds',
      help: 'Time from receiving a request to its answer, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    httpInFlight: new Gauge({ name: 'overdracht_http_requests_in_flight', help: 'Requests being handled now.', registers }),
    auditGroupSize: new Histogram({
      name: 'overdracht_audit_group_commit_entries',
      help: 'Audit entries written by one group commit.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    auditCommitSeconds: new Histogram({
      name: 'overdracht_audit_group_commit_seconds',
      help: 'Time one audit group commit took, by outcome (committed or failed).',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    bigRegisterCalls: new Counter({
      name: 'overdracht_big_register_calls_total',
      help: 'Requests to the BIG register, by outcome (answered or failed).',
      labelNames: ['outcome'],
      registers,
    }),
    bigRegisterSeconds: new Histogram({
      name: 'overdracht_big_register_call_seconds',
      help: 'Time a BIG register request took, by outcome.',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    }),
    bigCacheLookups: new Counter({
      name: 'overdracht_big_cache_lookups_total',
      help: 'BIG verifications by where the answer came from: hit (cache), miss (asked the register), backoff (refused fast after a register failure).',
      labelNames: ['result'],
      registers,
    }),
    accessDecisions: new Counter({
      name: 'overdracht_access_decisions_total',
      help: 'Access decisions written to the audit log, by action, effect (permit or deny) and reason code.',
      labelNames: ['action', 'effect', 'reason'],
      registers,
    }),
    emergencyAccessOpened: new Counter({
      name: 'overdracht_emergency_access_opened_total',
      help: 'Emergency (break-the-glass) windows opened.',
      registers,
    }),
    retentionRuns: new Counter({
      name: 'overdracht_retention_runs_total',
      help: 'Runs of the retention job in this process, by outcome (done, skipped because another instance claimed the day, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    notifications: new Counter({
      name: 'overdracht_notification_attempts_total',
      help: 'Attempts to deliver a notification to a subscriber, by outcome (delivered, retry, dead-letter).',
      labelNames: ['outcome'],
      registers,
    }),
  }

  const db = options.db
  if (db) {
    observeAuditCommits(db, (entries, seconds, outcome) => {
      metrics.auditGroupSize.observe(entries)
      metrics.auditCommitSeconds.observe({ outcome }, seconds)
    })
    const pool: pg.Pool | undefined = poolOf(db)
    if (pool) {
      new Gauge({
        name: 'overdracht_db_pool_clients',
        help: 'Database connections of this process, by state (total, idle) and requests waiting for one (waiting).',
        labelNames: ['state'],
        registers,
        collect() {
          this.set({ state: 'total' }, pool.totalCount)
          this.set({ state: 'idle' }, pool.idleCount)
          this.set({ state: 'waiting' }, pool.waitingCount)
        },
      })
    }
    new Gauge({
      name: 'overdracht_emergency_reviews_open',
      help: 'Emergency accesses whose review by a privacy officer is still open (counted in the database, so for all instances).',
      registers,
      async collect() {
        try {
          const { rows } = await sql<{ n: string }>`select count(*)::text as n from emergency_access where review_status = 'open'`.execute(db)
          this.set(Number(rows[0]?.n ?? 0))
        } catch {
          // While the database cannot be read the last count stands; the scrape itself goes on.
        }
      },
    })
  }

  // Series that exist from the start, so a rate is defined before the first event.
  for (const outcome of ['committed', 'failed']) metrics.auditCommitSeconds.zero({ outcome })
  for (const outcome of ['answered', 'failed']) metrics.bigRegisterCalls.inc({ outcome }, 0)
  for (const result of ['hit', 'miss', 'backoff']) metrics.bigCacheLookups.inc({ result }, 0)
  for (const outcome of ['done', 'skipped', 'failed']) metrics.retentionRuns.inc({ outcome }, 0)
  for (const outcome of ['delivered', 'retry', 'dead-letter']) metrics.notifications.inc({ outcome }, 0)
  metrics.emergencyAccessOpened.inc(0)
  return metrics
}

/** What the BIG verifier tells the metrics: where each answer came from, and each register request. */
export function bigVerifierObserver(metrics: Metrics): BigVerifierObserver {
  return {
    lookup: (result) => metrics.bigCacheLookups.inc({ result }),
    registerCall: (outcome, seconds) => {
      metrics.bigRegisterCalls.inc({ outcome })
      metrics.bigRegisterSeconds.observe({ outcome }, seconds)
    },
  }
}
