import { createFhirValidator } from './fhir/validation-pool.js'
import { join } from 'node:path'
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet } from 'jose'
import type { Logger } from 'pino'
import { deriveAuditKey } from './audit/audit-chain.js'
import { createBigVerifier } from './big/cached-register.js'
import { createFileBigRegister, writeDevelopmentRegisterFile } from './big/file-register.js'
import { createSoapBigRegister } from './big/soap-register.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import { createConsentKeyRing } from './consent/consent-keys.js'
import { openDatabase } from './db/database.js'
import { migrateToLatest } from './db/migrator.js'
import { bigVerifierObserver, createMetrics } from './metrics/metrics.js'
import type { Deps } from './deps.js'
import { parseMasterKey } from './patient/envelope.js'
import type { CallerKeys } from './http/caller-auth.js'
import { DEV_AUDIENCE, DEV_ISSUER, ensureDevIdentity, ensureDevMasterKey } from './http/dev-identity.js'

/** Builds every dependency from a checked configuration. Reads files named by it; not the environment. */
export async function buildDeps(config: Config, logger: Logger, clock: Clock): Promise<Deps> {
  // Keys first: a configuration mistake is reported before the database is opened.
  const masterKey = parseMasterKey(config.masterKey ?? (await ensureDevMasterKey(config.dataDir)))
  const db = await openDatabase(config.database)
  await migrateToLatest(db)

  let callerKeys: CallerKeys
  if (config.auth) {
    const keys = config.auth.jwks
      ? createLocalJWKSet(config.auth.jwks as unknown as JSONWebKeySet)
      : createRemoteJWKSet(new URL(config.auth.jwksUrl!), { timeoutDuration: 5000, cooldownDuration: 30_000 })
    callerKeys = { issuer: config.auth.issuer, audience: config.auth.audience, keys, clockToleranceSeconds: 30 }
  } else {
    const identity = await ensureDevIdentity(config.dataDir)
    callerKeys = {
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      keys: createLocalJWKSet({ keys: [identity.publicJwk] }),
      clockToleranceSeconds: 30,
    }
  }

  let register
  if (config.big && 'url' in config.big) {
    register = createSoapBigRegister({ url: config.big.url })
  } else {
    const file = config.big?.file ?? join(config.dataDir, 'big-register.json')
    if (!config.big) await writeDevelopmentRegisterFile(file)
    register = await createFileBigRegister(file)
  }
  const metrics = createMetrics({ db, processMetrics: true })
  const bigVerifier = createBigVerifier({ register, clock, allowedProfessions: config.allowedProfessions, observer: bigVerifierObserver(metrics) })

  return {
    db,
    clock,
    logger,
    callerKeys,
    masterKey,
    auditKey: deriveAuditKey(masterKey.key),
    bigVerifier,
    consentKeys: createConsentKeyRing(db, masterKey, clock),
    validator: createFhirValidator({ threads: config.validationThreads }),
    metrics,
    settings: config.settings,
    ...(config.web ? { web: config.web } : {}),
  }
}
