/**
 * `npm run audit:verify`: checks the audit log's hash chain with the configured database and master
 * key. Exit 0 when intact; exit 1 naming the first entry that was changed, removed or inserted.
 */
import { deriveAuditKey } from '../src/audit/audit-chain.js'
import { verifyAuditChain } from '../src/audit/audit-verify.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'
import { parseMasterKey } from '../src/patient/envelope.js'
import { ensureDevMasterKey } from '../src/http/dev-identity.js'

try {
  const config = loadConfig(process.env)
  const master = parseMasterKey(config.masterKey ?? (await ensureDevMasterKey(config.dataDir)))
  const db = await openDatabase(config.database)
  await migrateToLatest(db)
  const result = await verifyAuditChain(db, deriveAuditKey(master.key))
  await db.destroy()
  if (result.ok) {
    process.stdout.write(`audit chain intact: ${result.entries} entries verified\n`)
  } else {
    process.stdout.write(`audit chain BROKEN after ${result.entries} good entries: ${result.problem.message}\n`)
    process.exit(1)
  }
} catch (err) {
  process.stderr.write(`audit:verify: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : 'failed'}\n`)
  process.exit(2)
}
