import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type LogEvent } from 'kysely'
import pg from 'pg'
import { PGliteDialect } from './pglite-dialect.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export type DatabaseTarget =
  /** `preparedStatements`: default on; off for a pooler that cannot carry them (see `prepareStatements`). */
  | {
      kind: 'server'
      url: string
      poolSize?: number
      preparedStatements?: boolean
      /** Longest a statement may run, and longest to wait for a connection (ms): past them, 503. */
      statementTimeoutMs?: number
      connectTimeoutMs?: number
      onStatement?: StatementObserver
    }
  | { kind: 'embedded'; dataDir: string | undefined; onStatement?: StatementObserver }

/** Told the text of every statement the database runs (never its parameters): for tests that count round trips. */
export type StatementObserver = (sql: string) => void

const observe = (onStatement: StatementObserver | undefined): { log?: (event: LogEvent) => void } =>
  onStatement ? { log: (event) => event.level === 'query' && onStatement(event.query.sql) } : {}

const pools = new WeakMap<Db, pg.Pool>()

/** The connection pool under a server database, for its metrics; undefined on embedded PostgreSQL. */
export const poolOf = (db: Db): pg.Pool | undefined => pools.get(db)

/** Opens the database: a PostgreSQL server through `pg`, or embedded PostgreSQL (PGlite). */
export async function openDatabase(target: DatabaseTarget): Promise<Db> {
  if (target.kind === 'server') {
    const statementTimeoutMs = target.statementTimeoutMs ?? 30_000
    const pool = new pg.Pool({
      connectionString: target.url,
      max: target.poolSize ?? 10,
      connectionTimeoutMillis: target.connectTimeoutMs ?? 5_000,
      statement_timeout: statementTimeoutMs,
      // The server enforces statement_timeout only while it runs: a server that hangs, or a
      // network that drops packets, answers nothing and the statement would wait for ever. The
      // client gives up a little after the server would have (see dropOnQueryTimeout).
      query_timeout: statementTimeoutMs + QUERY_TIMEOUT_GRACE_MS,
    })
    // A client losing its server connection (a restart, pg_terminate_backend) must not take the
    // process down: idle clients report on the pool, checked-out ones on themselves. The query
    // that was running fails, and its request answers 503 (isDatabaseUnavailable).
    pool.on('error', () => {})
    pool.on('connect', (client) => {
      client.on('error', () => {})
      dropOnQueryTimeout(client)
      if (target.preparedStatements !== false) prepareStatements(client)
    })
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...observe(target.onStatement) })
    pools.set(db, pool)
    return db
  }
  if (target.dataDir !== undefined) await mkdir(target.dataDir, { recursive: true })
  const pglite = await PGlite.create(target.dataDir ?? 'memory://')
  return new Kysely<Database>({ dialect: new PGliteDialect(pglite), ...observe(target.onStatement) })
}

/** How much longer than the server's statement_timeout the client waits for an answer. */
export const QUERY_TIMEOUT_GRACE_MS = 500

/**
 * A statement the server did not answer within `query_timeout` leaves its connection in an
 * unknown state (the answer may still come, and would be taken for the next statement's): the
 * connection is closed, so the pool drops it when it is released instead of handing it out again.
 */
function dropOnQueryTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args)
    if (result instanceof Promise) {
      result.catch((err: unknown) => {
        if (err instanceof Error && err.message === 'Query read timeout') {
          ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
        }
      })
    }
    return result
  }
}

/** Distinct statements one connection keeps prepared; past that, statements run unprepared. */
export const MAX_PREPARED_PER_CONNECTION = 500

const inTransactionStart = /^\s*(begin|start\s+transaction)\b/i
const inTransactionEnd = /^\s*(commit|rollback|end|abort)\b/i

/** PostgreSQL's answer when a prepared `select *` meets a table whose columns changed since. */
const isStalePlan = (err: unknown) =>
  (err as { code?: string } | undefined)?.code === '0A000' && /cached plan must not change result type/.test(String((err as Error).message))

/**
 * Makes each parameterised statement a named prepared statement on this connection the first time
 * it runs there, so PostgreSQL parses and plans it once per connection instead of on every call
 * (with `pg`'s unnamed statements it does both every time: about half its CPU time per request
 * on the service's short lookups; docs/performance.md). Plans follow PostgreSQL's plan cache
 * (`plan_cache_mode`, re-planned after DDL). When a table's columns change under a running
 * instance (a migration), the first call of an affected statement gets a stale-plan error: the
 * statement is prepared again under a new name, and outside a transaction the call is retried.
 */
export function prepareStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>
  const names = new Map<string, string>()
  let next = 0
  let inTransaction = false
  const nameOf = (text: string) => {
    let name = names.get(text)
    if (name === undefined && names.size < MAX_PREPARED_PER_CONNECTION) names.set(text, (name = `ov_${next++}`))
    return name
  }
  ;(client as unknown as { query: unknown }).query = (config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config !== 'string' || callback !== undefined) return query(config, values, callback)
    if (!Array.isArray(values) || values.length === 0) {
      if (inTransactionStart.test(config)) inTransaction = true
      else if (inTransactionEnd.test(config)) inTransaction = false
      return query(config, values)
    }
    const name = nameOf(config)
    if (name === undefined) return query(config, values)
    return query({ name, text: config, values }).catch((err: unknown) => {
      if (!isStalePlan(err)) throw err
      names.delete(config)
      if (inTransaction) throw err
      const fresh = nameOf(config)
      return query(fresh === undefined ? { text: config, values } : { name: fresh, text: config, values })
    })
  }
}

/** SQLSTATE classes and codes that mean the database cannot serve now (not that the request was wrong). */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-4]|53300|57014)/
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
const UNAVAILABLE_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed|Cannot use a pool after calling end|Query read timeout/

/**
 * Whether an error means the database is unreachable or went away (a restart, a lost connection,
 * a statement timeout), rather than a fault in the request or the code: answered 503, retry later.
 */
/**
 * A background job's failure in the log: a database outage is expected and answered by the next
 * round (a warning, as for requests), anything else is an error. Only the error's type, never its
 * message (which may quote data).
 */
export function logJobFailure(logger: { warn: (o: object, m: string) => void; error: (o: object, m: string) => void }, job: string, err: unknown, message: string): void {
  const fields = { job, errorType: (err as Error)?.constructor?.name }
  if (isDatabaseUnavailable(err)) logger.warn(fields, `${message}: database unavailable`)
  else logger.error(fields, message)
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true
    if (e instanceof Error && UNAVAILABLE_MESSAGES.test(e.message)) return true
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true
  }
  return false
}
