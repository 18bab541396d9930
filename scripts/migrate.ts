/** Applies the database migrations (`npm run migrate`); the service also does so at start-up. */
import { ConfigError, loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/database.js'
import { migrateToLatest } from '../src/db/migrator.js'

try {
  const config = loadConfig(process.env)
  const db = await openDatabase(config.database)
  const result = await migrateToLatest(db)
  for (const r of result.results ?? []) process.stdout.write(`${r.status}: ${r.migrationName}\n`)
  if ((result.results ?? []).length === 0) process.stdout.write('schema is up to date\n')
  await db.destroy()
} catch (err) {
  process.stderr.write(`migrate: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : 'failed'}\n`)
  process.exit(1)
}
