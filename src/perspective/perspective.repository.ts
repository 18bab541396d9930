import type { Insertable } from 'kysely'
import type { Executor } from '../db/executor.js'
import type { PerspectiveTable } from '../db/schema.js'

export const insertPerspective = (db: Executor, row: Insertable<PerspectiveTable>) => db.insertInto('perspective').values(row).execute()

export { findCurrentPerspective } from '../access/facts.js'
