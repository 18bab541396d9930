/**
 * Query plans of every statement a scenario's request runs, captured from the real app: an
 * in-process instance (same configuration and code as the service under test, through `buildDeps`)
 * whose kysely instance logs each compiled statement with its parameters. Each captured SELECT is
 * then run again under `EXPLAIN (ANALYZE, BUFFERS)` in a transaction that is rolled back; writes
 * (INSERT/UPDATE) get a plain `EXPLAIN` (their plans are a single Insert node; the cost that grows
 * is index maintenance, shown by the index heights).
 */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import pino from 'pino'
import { createApp } from '../src/app.js'
import { buildDeps } from '../src/bootstrap.js'
import { systemClock } from '../src/clock.js'
import { loadConfig } from '../src/config.js'
import type { Database } from '../src/db/schema.js'

export interface PlanRequest {
  scenario: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string
}

export interface StatementPlan {
  sql: string
  explained: 'analyze' | 'plan' | 'skipped'
  plan: string[]
  /** Shared buffers touched by execution (hit + read), from the top plan node. */
  buffers?: number
  executionMs?: number
}

export interface ScenarioPlans {
  scenario: string
  status: number
  statements: StatementPlan[]
}

export interface IndexShape {
  index: string
  table: string
  /** B-tree levels from root to leaf (pageinspect), when available. */
  height?: number
  sizeBytes: number
}

const SKIP = /^\s*(begin|commit|rollback|savepoint|release)\b|pg_advisory_xact_lock/i

export async function capturePlans(env: Record<string, string>, url: string, requests: PlanRequest[]): Promise<ScenarioPlans[]> {
  const config = loadConfig(env)
  const deps = await buildDeps(config, pino({ level: 'silent' }), systemClock)
  let captured: { sql: string; parameters: readonly unknown[] }[] = []
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log(event) {
      if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters })
    },
  })
  const app = createApp({ ...deps, db })
  const explainer = new pg.Client({ connectionString: url })
  await explainer.connect()
  const out: ScenarioPlans[] = []
  try {
    for (const request of requests) {
      captured = []
      const res = await app.request(request.path, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
      })
      await res.arrayBuffer()
      const statements: StatementPlan[] = []
      for (const { sql, parameters } of captured) {
        if (SKIP.test(sql)) {
          statements.push({ sql, explained: 'skipped', plan: [] })
          continue
        }
        // SELECTs run again under ANALYZE; not the chain head's, which draws ids from the sequence.
        const analyze = /^\s*select\b/i.test(sql) && !/nextval\(/i.test(sql)
        await explainer.query('begin')
        try {
          const { rows } = await explainer.query<{ 'QUERY PLAN': string }>(
            `explain (${analyze ? 'analyze, buffers, ' : ''}costs, verbose off) ${sql}`,
            parameters as unknown[],
          )
          const plan = rows.map((r) => r['QUERY PLAN'])
          const statement: StatementPlan = { sql, explained: analyze ? 'analyze' : 'plan', plan }
          if (analyze) {
            const top = plan.find((l) => /^\s*Buffers:/.test(l))
            if (top) statement.buffers = [...top.matchAll(/(?:hit|read)=(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0)
            const exec = plan.find((l) => l.startsWith('Execution Time:'))
            if (exec) statement.executionMs = Number(/([\d.]+) ms/.exec(exec)?.[1])
          }
          statements.push(statement)
        } finally {
          await explainer.query('rollback')
        }
      }
      out.push({ scenario: request.scenario, status: res.status, statements })
    }
  } finally {
    await explainer.end()
    await db.destroy()
    await deps.db.destroy()
  }
  return out
}

/** Size and B-tree height of the indexes the scenarios use. */
export async function indexShapes(url: string): Promise<IndexShape[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    let pageinspect = true
    try {
      await client.query('create extension if not exists pageinspect')
    } catch {
      pageinspect = false
    }
    const { rows } = await client.query<{ index: string; table: string; size: string }>(
      `select i.relname as index, t.relname as table, pg_relation_size(i.oid)::text as size
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = i.relnamespace
       where n.nspname = 'public' and i.relkind = 'i' and t.relname in
         ('patient', 'patient_identifier', 'patient_key', 'bundle_version', 'consent', 'task', 'perspective', 'signing_key', 'emergency_access')
       order by t.relname, i.relname`,
    )
    const shapes: IndexShape[] = []
    for (const r of rows) {
      const shape: IndexShape = { index: r.index, table: r.table, sizeBytes: Number(r.size) }
      if (pageinspect) {
        try {
          const meta = await client.query<{ level: number }>('select level from bt_metap($1)', [r.index])
          shape.height = Number(meta.rows[0]!.level) + 1
        } catch {
          // not a B-tree (the GIN index on task recipients)
        }
      }
      shapes.push(shape)
    }
    // The audit log: one (patient_id, occurred_at) index per monthly partition; the largest one.
    const audit = await client.query<{ index: string; table: string; size: string }>(
      `select i.relname as index, t.relname as table, pg_relation_size(i.oid)::text as size
       from pg_inherits h join pg_class t on t.oid = h.inhrelid join pg_index x on x.indrelid = t.oid
       join pg_class i on i.oid = x.indexrelid
       where h.inhparent = 'audit_event'::regclass order by pg_relation_size(i.oid) desc limit 2`,
    )
    for (const r of audit.rows) {
      const shape: IndexShape = { index: r.index, table: r.table, sizeBytes: Number(r.size) }
      if (pageinspect) {
        const meta = await client.query<{ level: number }>('select level from bt_metap($1)', [r.index])
        shape.height = Number(meta.rows[0]!.level) + 1
      }
      shapes.push(shape)
    }
    return shapes
  } finally {
    await client.end()
  }
}
