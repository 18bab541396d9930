import type { Kysely, Transaction } from 'kysely'
import type { Database } from './schema.js'

/** A database handle or an open transaction: what repositories take first. */
export type Executor = Kysely<Database> | Transaction<Database>
