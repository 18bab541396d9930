import type { Logger } from 'pino'
import type { BigVerifier } from './big/cached-register.js'
import type { Clock } from './clock.js'
import type { FhirValidator } from './fhir/validation-pool.js'
import type { ConsentKeyRing } from './consent/consent-keys.js'
import type { Db } from './db/database.js'
import type { MasterKey } from './patient/envelope.js'
import { DEFAULT_CONTACT_LINES, type ContactLines } from './perspective/contact-lines.js'
import type { CallerKeys } from './http/caller-auth.js'
import type { Metrics } from './metrics/metrics.js'
import { DEFAULT_SENSITIVE_CATEGORIES, type SensitiveCategories } from './consent/sensitive-categories.js'
import { DEFAULT_CONSENT_FORMS, type ConsentFormCatalogue } from './consent/consent-forms.js'
import type { WebSettings } from './web/web-settings.js'

/** Behaviour settings the app needs; read from the environment by server.ts only. */
export interface Settings {
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number
  /** Most entries a handover bundle may hold. */
  maxBundleEntries: number
  /** How long a departure's or case's parties keep the flags after the task ends. */
  taskGraceMs: number
  /**
   * URAs of the DT&V organisations whose regievoerders may announce departures and cases. Empty:
   * nobody may; a `dtv` organisation type alone is a claim of the token, not a mandate.
   */
  departureAuthorities: readonly string[]
  /** How long an emergency (break-the-glass) window stays open. */
  emergencyWindowMs: number
  /** How long a consent token issued without an explicit period stays valid. */
  consentTokenTtlMs: number
  /** Issuer and audience of consent tokens. */
  consentTokenIssuer: string
  consentTokenAudience: string
  /** Development mode: the service made its own caller keys. */
  developmentMode: boolean
  /** A perspective reviewed longer ago than this is stale, departure or not. */
  perspectiveMaxAgeMs: number
  /** A perspective is stale when its last review lies more than this before the planned departure. */
  perspectiveReviewBeforeDepartureMs: number
  /** Contact lines of the issuing medical services, by URA or organisation type. */
  contactLines: ContactLines
  /** Exchange copies of a patient's dossier expire this long after the last task ends (or the last upload). */
  retentionMs: number
  /** The classification of dossier content into sensitive categories a consent may exclude. */
  sensitiveCategories: SensitiveCategories
  /** The consent forms in use, per version and language. */
  consentForms: ConsentFormCatalogue
  /**
   * The service's public base URL (`https://overdracht.example`), for absolute Location headers,
   * fullUrls and links; undefined: the request's own origin.
   */
  publicBaseUrl?: string
  /** Origins (scheme://host[:port]) whose browser clients may call the API (CORS); empty: none. */
  corsOrigins: readonly string[]
  /** A transfer or departure due within this long whose dossier the receivers have not opened is at risk. */
  atRiskWindowMs: number
  /** Delivery of notifications to subscribers' endpoints. */
  notify: NotifySettings
  /** An escort card expires this long after the planned departure. */
  escortCardGraceMs: number
}

export interface NotifySettings {
  /** Host names or addresses an endpoint may name although they resolve to private or loopback addresses. */
  allowHosts: readonly string[]
  /** A notification not delivered this long after its event goes to the dead letters. */
  maxAgeMs: number
  /** The first retry waits this long; each next one twice as long, up to `maxBackoffMs`. */
  baseBackoffMs: number
  maxBackoffMs: number
  /** The longest one delivery attempt may take (connection, request and answer). */
  timeoutMs: number
  /** How often the dispatcher looks for work, and sweeps for handovers at risk. */
  pollMs: number
  sweepMs: number
}

export const DEFAULT_NOTIFY_SETTINGS: NotifySettings = {
  allowHosts: [],
  maxAgeMs: 24 * 3600_000,
  baseBackoffMs: 5_000,
  maxBackoffMs: 15 * 60_000,
  timeoutMs: 5_000,
  pollMs: 500,
  sweepMs: 5 * 60_000,
}

export const DEFAULT_SETTINGS: Settings = {
  maxBodyBytes: 10 * 1024 * 1024,
  maxBundleEntries: 5_000,
  taskGraceMs: 7 * 24 * 60 * 60 * 1000,
  departureAuthorities: [],
  emergencyWindowMs: 60 * 60 * 1000,
  consentTokenTtlMs: 24 * 60 * 60 * 1000,
  consentTokenIssuer: 'urn:overdracht',
  consentTokenAudience: 'urn:overdracht:dossier',
  developmentMode: false,
  perspectiveMaxAgeMs: 30 * 24 * 60 * 60 * 1000,
  perspectiveReviewBeforeDepartureMs: 7 * 24 * 60 * 60 * 1000,
  contactLines: DEFAULT_CONTACT_LINES,
  retentionMs: 90 * 24 * 60 * 60 * 1000,
  sensitiveCategories: DEFAULT_SENSITIVE_CATEGORIES,
  consentForms: DEFAULT_CONSENT_FORMS,
  corsOrigins: [],
  atRiskWindowMs: 24 * 3600_000,
  notify: DEFAULT_NOTIFY_SETTINGS,
  escortCardGraceMs: 6 * 3600_000,
}

/** Everything the app depends on, passed in explicitly: no module singletons. */
export interface Deps {
  db: Db
  clock: Clock
  logger: Logger
  callerKeys: CallerKeys
  masterKey: MasterKey
  /** Keys the audit log's hash chain; derived from the master key. */
  auditKey: Uint8Array
  bigVerifier: BigVerifier
  consentKeys: ConsentKeyRing
  /** FHIR validation of request bodies, in worker threads for large ones. */
  validator: FhirValidator
  metrics: Metrics
  settings: Settings
  /** The web application's sign-in; undefined: the service serves no pages. */
  web?: WebSettings
}
