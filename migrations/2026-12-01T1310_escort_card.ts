import type { Kysely } from 'kysely'

/**
 * Escort cards issued: what the online status check needs to say whether a card still stands (its
 * task open, the perspective it shows still the current one). No codes and no person identifier.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('escort_card')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('org', 'text', (c) => c.notNull())
    // The review time of the perspective the card shows; a newer review revokes the card.
    .addColumn('reviewed_at', 'timestamptz')
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('escort_card').execute()
}
