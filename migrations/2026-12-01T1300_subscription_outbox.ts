import { sql, type Kysely } from 'kysely'

/**
 * Notified pull: a receiving organisation's rest-hook subscriptions, and the durable outbox of
 * content-free notifications to them. Outbox rows are written in the transaction of the change they
 * announce; a dispatcher claims a subscription (a lease, taken with `for update skip locked`) and
 * delivers its notifications one at a time, in `seq` order.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('subscription')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org', 'text', (c) => c.notNull())
    // owner: events of tasks naming the organisation as owner or extra recipient; requester: of its own tasks.
    .addColumn('party', 'text', (c) => c.notNull().check(sql`party in ('owner', 'requester')`))
    .addColumn('criteria', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'error', 'off')`))
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'timestamptz')
    .execute()
  await sql`create index subscription_org_idx on subscription (org, party) where deleted_at is null`.execute(db)

  await db.schema
    .createTable('notification')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigserial', (c) => c.notNull().unique())
    .addColumn('subscription_id', 'text', (c) => c.notNull().references('subscription.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'delivered', 'dead')`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'timestamptz')
    .execute()
  await sql`create index notification_pending_idx on notification (subscription_id, seq) where state = 'pending'`.execute(db)
  await sql`create index notification_task_kind_idx on notification (task_id, kind)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('notification').execute()
  await db.schema.dropTable('subscription').execute()
}
