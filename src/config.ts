import { availableParallelism } from 'node:os'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DEFAULT_CONTACT_LINES, parseContactLines } from './perspective/contact-lines.js'
import { DEFAULT_ALLOWED_PROFESSIONS, parseAllowedProfessions } from './big/big-status.js'
import { DEFAULT_NOTIFY_SETTINGS, DEFAULT_SETTINGS, type Settings } from './deps.js'
import type { DatabaseTarget } from './db/database.js'
import { sensitiveCategories } from './consent/sensitive-categories.js'
import { consentFormCatalogue } from './consent/consent-forms.js'
import type { WebSettings } from './web/web-settings.js'

export const DEV_DEPARTURE_AUTHORITY = '90000004'

export interface Config {
  port: number
  host: string
  dataDir: string
  database: DatabaseTarget
  /** `undefined`: development mode, the service makes its own caller keys. */
  /** `jwks`: the key set read from OVERDRACHT_AUTH_JWKS_FILE, checked at start-up. */
  auth: { issuer: string; audience: string; jwksUrl?: string; jwksFile?: string; jwks?: { keys: Record<string, unknown>[] } } | undefined
  big: { url: string } | { file: string } | undefined
  masterKey: string | undefined
  allowedProfessions: ReadonlySet<string>
  logLevel: string
  /** How long in-flight requests may take to finish after SIGTERM or SIGINT. */
  shutdownGraceMs: number
  /** Worker threads that validate large request bodies; 0: on the event loop. */
  validationThreads: number
  /**
   * Service processes sharing the port (node:cluster); 1: this process serves. More than one needs
   * a PostgreSQL server (the embedded database lives in one process).
   */
  workers: number
  /** The Prometheus listener; undefined: off. */
  metrics: { port: number; host: string; token: string | undefined } | undefined
  /** The web application's sign-in; undefined: no pages (an identity provider for the API but none for people). */
  web: WebSettings | undefined
  settings: Settings
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive whole number`)
  return n
}

function isUrl(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol)
  } catch {
    return false
  }
}

function isMasterKey(value: string): boolean {
  const text = value.trim()
  return /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length === 32
}

/** The caller key set, read and checked before anything else starts. */
function readJwksFile(path: string): { keys: Record<string, unknown>[] } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    throw new ConfigError(`OVERDRACHT_AUTH_JWKS_FILE: cannot read ${path}`)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ConfigError('OVERDRACHT_AUTH_JWKS_FILE is not JSON')
  }
  const keys = (value as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string')) {
    throw new ConfigError('OVERDRACHT_AUTH_JWKS_FILE must be a JWK set: {"keys": [{"kty": ...}, ...]}')
  }
  return { keys: keys as Record<string, unknown>[] }
}

/** Reads and checks the configuration; fails with a message that names the variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const dataDir = resolve(env.OVERDRACHT_DATA_DIR || './data')
  const issuer = env.OVERDRACHT_AUTH_ISSUER
  const audience = env.OVERDRACHT_AUTH_AUDIENCE
  const jwksUrl = env.OVERDRACHT_AUTH_JWKS_URL
  const jwksFile = env.OVERDRACHT_AUTH_JWKS_FILE
  const anyAuth = [issuer, audience, jwksUrl, jwksFile].some((v) => v !== undefined && v !== '')
  let auth: Config['auth']
  if (anyAuth) {
    if (!issuer) throw new ConfigError('OVERDRACHT_AUTH_ISSUER is required when an identity provider is configured')
    if (!audience) throw new ConfigError('OVERDRACHT_AUTH_AUDIENCE is required when an identity provider is configured')
    if (!jwksUrl === !jwksFile) throw new ConfigError('Set exactly one of OVERDRACHT_AUTH_JWKS_URL and OVERDRACHT_AUTH_JWKS_FILE')
    if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) throw new ConfigError('OVERDRACHT_AUTH_JWKS_URL must be an http(s) URL')
    auth = { issuer, audience, ...(jwksUrl ? { jwksUrl } : {}), ...(jwksFile ? { jwksFile: resolve(jwksFile), jwks: readJwksFile(resolve(jwksFile)) } : {}) }
  }
  // Development mode is for a newcomer's machine. With a database server or a master key in the
  // environment it looks like a deployment, so it must be asked for by name.
  if (!auth && (env.DATABASE_URL || env.OVERDRACHT_MASTER_KEY) && env.OVERDRACHT_DEVELOPMENT_MODE !== '1') {
    throw new ConfigError(
      'No identity provider is configured (OVERDRACHT_AUTH_*). Set it, or set OVERDRACHT_DEVELOPMENT_MODE=1 to run with self-made development keys',
    )
  }
  if (env.OVERDRACHT_BIG_REGISTER_URL && env.OVERDRACHT_BIG_REGISTER_FILE) {
    throw new ConfigError('Set at most one of OVERDRACHT_BIG_REGISTER_URL and OVERDRACHT_BIG_REGISTER_FILE')
  }
  const big = env.OVERDRACHT_BIG_REGISTER_URL
    ? { url: env.OVERDRACHT_BIG_REGISTER_URL }
    : env.OVERDRACHT_BIG_REGISTER_FILE
      ? { file: resolve(env.OVERDRACHT_BIG_REGISTER_FILE) }
      : undefined
  if (auth && !big) {
    throw new ConfigError('With an identity provider configured, set OVERDRACHT_BIG_REGISTER_URL or OVERDRACHT_BIG_REGISTER_FILE')
  }
  if (auth && !env.OVERDRACHT_MASTER_KEY) {
    throw new ConfigError('OVERDRACHT_MASTER_KEY (32 random bytes, base64) is required outside development mode')
  }
  if (env.OVERDRACHT_MASTER_KEY && !isMasterKey(env.OVERDRACHT_MASTER_KEY)) {
    throw new ConfigError('OVERDRACHT_MASTER_KEY must be 32 random bytes, base64-encoded (for example: openssl rand -base64 32)')
  }
  if (env.DATABASE_URL && !isUrl(env.DATABASE_URL, ['postgres:', 'postgresql:'])) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL')
  }
  if (env.OVERDRACHT_BIG_REGISTER_URL && !isUrl(env.OVERDRACHT_BIG_REGISTER_URL, ['http:', 'https:'])) {
    throw new ConfigError('OVERDRACHT_BIG_REGISTER_URL must be an http(s) URL')
  }
  let contactLines = DEFAULT_CONTACT_LINES
  if (env.OVERDRACHT_CONTACT_LINES_FILE) {
    try {
      contactLines = { ...DEFAULT_CONTACT_LINES, ...parseContactLines(JSON.parse(readFileSync(resolve(env.OVERDRACHT_CONTACT_LINES_FILE), 'utf8'))) }
    } catch (err) {
      throw new ConfigError(`OVERDRACHT_CONTACT_LINES_FILE: ${err instanceof Error ? err.message : 'unreadable'}`)
    }
  }
  let categories = DEFAULT_SETTINGS.sensitiveCategories
  if (env.OVERDRACHT_SENSITIVE_CATEGORIES_FILE) {
    try {
      categories = sensitiveCategories(JSON.parse(readFileSync(resolve(env.OVERDRACHT_SENSITIVE_CATEGORIES_FILE), 'utf8')))
    } catch (err) {
      throw new ConfigError(`OVERDRACHT_SENSITIVE_CATEGORIES_FILE: ${err instanceof Error ? err.message : 'unreadable'}`)
    }
  }
  let forms = DEFAULT_SETTINGS.consentForms
  if (env.OVERDRACHT_CONSENT_FORMS_FILE) {
    try {
      forms = consentFormCatalogue(JSON.parse(readFileSync(resolve(env.OVERDRACHT_CONSENT_FORMS_FILE), 'utf8')))
    } catch (err) {
      throw new ConfigError(`OVERDRACHT_CONSENT_FORMS_FILE: ${err instanceof Error ? err.message : 'unreadable'}`)
    }
  }
  const publicBaseUrl = env.OVERDRACHT_PUBLIC_BASE_URL?.replace(/\/+$/, '') || undefined
  if (publicBaseUrl !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(publicBaseUrl)
    } catch {
      url = undefined
    }
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username) {
      throw new ConfigError('OVERDRACHT_PUBLIC_BASE_URL must be an http(s) URL without query, fragment or credentials')
    }
  }
  const corsOrigins = (env.OVERDRACHT_CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  for (const origin of corsOrigins) {
    let ok = false
    try {
      const url = new URL(origin)
      ok = ['http:', 'https:'].includes(url.protocol) && url.origin === origin
    } catch {
      ok = false
    }
    if (!ok) throw new ConfigError(`OVERDRACHT_CORS_ORIGINS: "${origin.slice(0, 80)}" is not an origin (scheme://host[:port], no path or trailing slash)`)
  }
  const port = positiveInt(env, 'PORT', 8080)
  if (port > 65535) throw new ConfigError('PORT must be at most 65535')
  let metrics: Config['metrics']
  if (env.OVERDRACHT_METRICS_PORT) {
    const metricsPort = positiveInt(env, 'OVERDRACHT_METRICS_PORT', 0)
    if (metricsPort > 65535) throw new ConfigError('OVERDRACHT_METRICS_PORT must be at most 65535')
    if (metricsPort === port) throw new ConfigError('OVERDRACHT_METRICS_PORT must differ from PORT')
    const token = env.OVERDRACHT_METRICS_TOKEN || undefined
    if (token !== undefined && (token.length < 16 || !/^[\x21-\x7e]+$/.test(token))) {
      throw new ConfigError('OVERDRACHT_METRICS_TOKEN must be at least 16 printable characters without spaces')
    }
    metrics = { port: metricsPort, host: env.OVERDRACHT_METRICS_HOST || env.HOST || '127.0.0.1', token }
  } else if (env.OVERDRACHT_METRICS_TOKEN || env.OVERDRACHT_METRICS_HOST) {
    throw new ConfigError('OVERDRACHT_METRICS_TOKEN and OVERDRACHT_METRICS_HOST need OVERDRACHT_METRICS_PORT')
  }
  const oidcIssuer = env.OVERDRACHT_OIDC_ISSUER || undefined
  const oidcClientId = env.OVERDRACHT_OIDC_CLIENT_ID || undefined
  const oidcClientSecret = env.OVERDRACHT_OIDC_CLIENT_SECRET || undefined
  let web: WebSettings | undefined
  const sessionIdleMs = positiveInt(env, 'OVERDRACHT_SESSION_IDLE_MINUTES', 30) * 60_000
  const sessionAbsoluteMs = positiveInt(env, 'OVERDRACHT_SESSION_MAX_HOURS', 12) * 3600_000
  const baseUrl = publicBaseUrl ?? `http://localhost:${port}`
  if (oidcIssuer || oidcClientId || oidcClientSecret) {
    if (!oidcIssuer || !oidcClientId || !oidcClientSecret) {
      throw new ConfigError('Set all of OVERDRACHT_OIDC_ISSUER, OVERDRACHT_OIDC_CLIENT_ID and OVERDRACHT_OIDC_CLIENT_SECRET, or none')
    }
    if (!isUrl(oidcIssuer, ['https:']) && !(auth === undefined && isUrl(oidcIssuer, ['http:']))) {
      throw new ConfigError('OVERDRACHT_OIDC_ISSUER must be an https URL')
    }
    if (auth !== undefined && !publicBaseUrl) {
      throw new ConfigError('OVERDRACHT_PUBLIC_BASE_URL is required with OVERDRACHT_OIDC_ISSUER (the redirect URI and cookies are bound to it)')
    }
    if (auth !== undefined && !baseUrl.startsWith('https:')) {
      throw new ConfigError('OVERDRACHT_PUBLIC_BASE_URL must be https with OVERDRACHT_OIDC_ISSUER (session cookies are Secure)')
    }
    web = { baseUrl, oidc: { issuer: oidcIssuer, clientId: oidcClientId, clientSecret: oidcClientSecret, scope: env.OVERDRACHT_OIDC_SCOPE || 'openid profile' }, sessionIdleMs, sessionAbsoluteMs }
  } else if (auth === undefined) {
    web = { baseUrl, oidc: 'development', sessionIdleMs, sessionAbsoluteMs }
  }
  // Every core by default, where the database is a server and sign-in does not rely on the
  // development provider (it keeps its sign-ins in the memory of one process).
  const oneProcessOnly = !env.DATABASE_URL || web?.oidc === 'development'
  const workers = positiveInt(env, 'OVERDRACHT_WORKERS', oneProcessOnly ? 1 : availableParallelism())
  if (workers > 1 && !env.DATABASE_URL) {
    throw new ConfigError('OVERDRACHT_WORKERS above 1 needs a PostgreSQL server (DATABASE_URL): the embedded database lives in one process')
  }
  if (workers > 1 && web?.oidc === 'development') {
    // The API works in every process; the pages would lose sign-ins between processes.
    web = undefined
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    dataDir,
    database: env.DATABASE_URL
      ? {
          kind: 'server',
          url: env.DATABASE_URL,
          poolSize: positiveInt(env, 'OVERDRACHT_DB_POOL_SIZE', 10),
          statementTimeoutMs: positiveInt(env, 'OVERDRACHT_DB_STATEMENT_TIMEOUT_MS', 30_000),
          connectTimeoutMs: positiveInt(env, 'OVERDRACHT_DB_CONNECT_TIMEOUT_MS', 5_000),
        }
      : { kind: 'embedded', dataDir: resolve(dataDir, 'pglite') },
    auth,
    big,
    masterKey: env.OVERDRACHT_MASTER_KEY || undefined,
    allowedProfessions: env.OVERDRACHT_BIG_ALLOWED_PROFESSIONS
      ? parseAllowedProfessions(env.OVERDRACHT_BIG_ALLOWED_PROFESSIONS)
      : DEFAULT_ALLOWED_PROFESSIONS,
    logLevel: env.OVERDRACHT_LOG_LEVEL || 'info',
    shutdownGraceMs: positiveInt(env, 'OVERDRACHT_SHUTDOWN_GRACE_SECONDS', 15) * 1000,
    metrics,
    web,
    workers,
    validationThreads: env.OVERDRACHT_VALIDATION_THREADS === '0' ? 0 : positiveInt(env, 'OVERDRACHT_VALIDATION_THREADS', Math.max(1, Math.min(4, availableParallelism() - 1))),
    settings: {
      ...DEFAULT_SETTINGS,
      maxBodyBytes: positiveInt(env, 'OVERDRACHT_MAX_BODY_BYTES', DEFAULT_SETTINGS.maxBodyBytes),
      emergencyWindowMs: positiveInt(env, 'OVERDRACHT_EMERGENCY_WINDOW_MINUTES', 60) * 60_000,
      consentTokenTtlMs: positiveInt(env, 'OVERDRACHT_CONSENT_TOKEN_TTL_MINUTES', 24 * 60) * 60_000,
      developmentMode: auth === undefined,
      retentionMs: positiveInt(env, 'OVERDRACHT_RETENTION_DAYS', 90) * 24 * 3600_000,
      perspectiveMaxAgeMs: positiveInt(env, 'OVERDRACHT_PERSPECTIVE_MAX_AGE_DAYS', 30) * 24 * 3600_000,
      maxBundleEntries: positiveInt(env, 'OVERDRACHT_MAX_BUNDLE_ENTRIES', DEFAULT_SETTINGS.maxBundleEntries),
      taskGraceMs: positiveInt(env, 'OVERDRACHT_TASK_GRACE_DAYS', 7) * 24 * 3600_000,
      // Development mode: the fictional DT&V of the README (90000004), unless configured.
      departureAuthorities: env.OVERDRACHT_DEPARTURE_AUTHORITIES
        ? env.OVERDRACHT_DEPARTURE_AUTHORITIES.split(',').map((s) => s.trim()).filter(Boolean)
        : auth === undefined
          ? [DEV_DEPARTURE_AUTHORITY]
          : [],
      contactLines: contactLines,
      sensitiveCategories: categories,
      consentForms: forms,
      ...(publicBaseUrl ? { publicBaseUrl } : {}),
      corsOrigins,
      atRiskWindowMs: positiveInt(env, 'OVERDRACHT_AT_RISK_HOURS', 24) * 3600_000,
      notify: {
        ...DEFAULT_NOTIFY_SETTINGS,
        allowHosts: (env.OVERDRACHT_NOTIFY_ALLOW_HOSTS ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean),
        maxAgeMs: positiveInt(env, 'OVERDRACHT_NOTIFY_MAX_AGE_HOURS', 24) * 3600_000,
        timeoutMs: positiveInt(env, 'OVERDRACHT_NOTIFY_TIMEOUT_MS', DEFAULT_NOTIFY_SETTINGS.timeoutMs),
      },
      escortCardGraceMs: positiveInt(env, 'OVERDRACHT_ESCORT_CARD_GRACE_HOURS', 6) * 3600_000,
    },
  }
}
