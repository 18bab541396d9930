import type { Kysely } from 'kysely'

/** One row per scheduled job and day: the first instance to insert it runs the job. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_run')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('run_on', 'date', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('result', 'jsonb')
    .addPrimaryKeyConstraint('job_run_pk', ['name', 'run_on'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_run').execute()
}
