import { randomBytes } from 'node:crypto'
import { bigVerifierObserver, createMetrics } from '../../src/metrics/metrics.js'
import { Writable } from 'node:stream'
import pino from 'pino'
import { createApp } from '../../src/app.js'
import { deriveAuditKey } from '../../src/audit/audit-chain.js'
import type { BigRegister } from '../../src/big/big-register.js'
import { createBigVerifier } from '../../src/big/cached-register.js'
import { createRecordsBigRegister } from '../../src/big/file-register.js'
import type { BigRegisterRecord } from '../../src/big/big-record.js'
import { FixedClock } from '../../src/clock.js'
import { createFhirValidator } from '../../src/fhir/validation-pool.js'
import { createConsentKeyRing } from '../../src/consent/consent-keys.js'
import type { Db, StatementObserver } from '../../src/db/database.js'
import { DEFAULT_SETTINGS, type Deps, type Settings } from '../../src/deps.js'
import { parseMasterKey } from '../../src/patient/envelope.js'
import { createTestIdentityProvider, type TestIdentityProvider } from './identity.js'
import { BIG_RECORDS, CALLERS, URA, type CallerName } from './people.js'
import { createTestDatabase } from './test-db.js'

export interface TestAppOptions {
  register?: BigRegister
  records?: BigRegisterRecord[]
  settings?: Partial<Settings>
  start?: string
  /** Told every statement's text (see StatementObserver). */
  onStatement?: StatementObserver
}

export interface RequestOptions {
  as?: CallerName
  token?: string
  body?: unknown
  /** Sent as is, instead of JSON.stringify(body). */
  rawBody?: string | Uint8Array
  headers?: Record<string, string>
}

export type TestApp = Awaited<ReturnType<typeof createTestApp>>

/** The real app over a real, migrated database, with a test identity provider and a movable clock. */
export async function createTestApp(options: TestAppOptions = {}) {
  const clock = new FixedClock(options.start ?? '2026-11-24T09:00:00Z')
  const database = await createTestDatabase(options.onStatement ? { onStatement: options.onStatement } : {})
  const db: Db = database.db
  const idp: TestIdentityProvider = await createTestIdentityProvider(clock)
  const logLines: string[] = []
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk))
        done()
      },
    }),
  )
  const masterKey = parseMasterKey(randomBytes(32).toString('base64'))
  const register = options.register ?? createRecordsBigRegister(options.records ?? BIG_RECORDS)
  const metrics = createMetrics({ db })
  const deps: Deps = {
    db,
    clock,
    logger,
    callerKeys: idp.callerKeys,
    masterKey,
    auditKey: deriveAuditKey(masterKey.key),
    bigVerifier: createBigVerifier({ register, clock, observer: bigVerifierObserver(metrics) }),
    consentKeys: createConsentKeyRing(db, masterKey, clock),
    // One lazy worker thread for the suite's large bundles. The threshold stays at 32 KB so that
    // each test file does not start a thread for its small bundles; validation-pool.test.ts checks
    // that a thread and the event loop give the same verdicts.
    validator: createFhirValidator({ threads: 1, lazy: true, inlineBelowBytes: 32 * 1024 }),
    metrics,
    settings: { ...DEFAULT_SETTINGS, departureAuthorities: [URA.dtv], ...options.settings },
  }
  const app = createApp(deps)

  async function tokenFor(name: CallerName, overrides: Record<string, unknown> = {}) {
    return idp.token({ ...CALLERS[name], ...overrides })
  }

  async function request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...opts.headers }
    const token = opts.token ?? (opts.as ? await tokenFor(opts.as) : undefined)
    if (token !== undefined && headers.authorization === undefined) headers.authorization = `Bearer ${token}`
    let body: BodyInit | undefined
    if (opts.rawBody !== undefined) body = opts.rawBody as BodyInit
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers['content-type'] ??= 'application/fhir+json'
    }
    return app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) })
  }

  return {
    app,
    deps,
    db,
    clock,
    idp,
    logLines,
    tokenFor,
    request,
    get: (path: string, opts?: RequestOptions) => request('GET', path, opts),
    post: (path: string, opts?: RequestOptions) => request('POST', path, opts),
    put: (path: string, opts?: RequestOptions) => request('PUT', path, opts),
    close: async () => {
      await deps.validator.close()
      await database.drop()
    },
  }
}

export { CALLERS }
