/**
 * `npm run keys:rotate`: retires the consent-token signing key and makes a new one. Tokens signed
 * with the old key keep verifying until the longest possible token lifetime has passed.
 */
import { systemClock } from '../src/clock.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { createConsentKeyRing } from '../src/consent/consent-keys.js'
import { MAX_TOKEN_LIFETIME_MS } from '../src/consent/consent.service.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { parseMasterKey } from '../src/patient/envelope.js'
import { ensureDevMasterKey } from '../src/http/dev-identity.js'

try {
  const config = loadConfig(process.env)
  const master = parseMasterKey(config.masterKey ?? (await ensureDevMasterKey(config.dataDir)))
  const db = await openDatabase(config.database)
  await migrateToLatest(db)
  const kid = await createConsentKeyRing(db, master, systemClock).rotate(MAX_TOKEN_LIFETIME_MS)
  await db.destroy()
  process.stdout.write(`new consent-token signing key: ${kid}\n`)
} catch (err) {
  process.stderr.write(`keys:rotate: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : 'failed'}\n`)
  process.exit(2)
}
