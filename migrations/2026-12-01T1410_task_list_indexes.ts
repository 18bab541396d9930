import { sql, type Kysely } from 'kysely'

/**
 * Indexes for the task lists (inbox, outbox, handovers at risk), measured with bench/pages.ts at
 * 5,000 patients (docs/web.md):
 * - the requester's list in its keyset order (planned date, undated last; announcement; id), so a
 *   page of 100 is read in order and the walk stops, instead of sorting every task of the
 *   organisation (one GZA: 20 ms to 2 ms per list);
 * - the read receipts (the earliest permitted `dossier.read` of the patient by the receiving
 *   organisations): a partial index over the permitted reads only, not every audit entry of the
 *   patient (page views write entries too).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index task_requester_order_idx on task (requester_org, (coalesce(planned_start, 'infinity'::timestamptz)), created_at, id)`.execute(db)
  await sql`create index audit_event_receipt_idx on audit_event (patient_id, org_id, occurred_at) where event_type = 'dossier.read' and outcome = 'permit'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists audit_event_receipt_idx`.execute(db)
  await sql`drop index if exists task_requester_order_idx`.execute(db)
}
