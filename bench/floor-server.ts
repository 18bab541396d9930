/**
 * The floors: what the same machine, HTTP stack and database do with no application logic.
 *
 * - `GET /floor/read/:id`: a bare Hono endpoint that reads one stored dossier row (~40 KB of
 *   ciphertext) by primary key and answers it as it is.
 * - `GET /floor/audited/:id`: the same, plus one audit-shaped row (the columns and indexes of
 *   audit_event, no hash chain) inserted and committed before the answer.
 *
 * Same Node.js, same `pg` driver and pool size as the service (OVERDRACHT_DB_POOL_SIZE, 10), same
 * database server, and prepared statements as the service has them (src/db/database.ts): a floor
 * is the least any request can cost. Run in its own process so its CPU time can be read from /proc.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import pg from 'pg'

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.OVERDRACHT_DB_POOL_SIZE || 10) })
pool.on('error', () => {})

const app = new Hono()

async function readRow(id: string): Promise<{ patient_id: string; content: string } | undefined> {
  const { rows } = await pool.query<{ patient_id: string; content: string }>({
    name: 'floor-read',
    text: 'select patient_id, content from bundle_version where id = $1',
    values: [id],
  })
  return rows[0]
}

app.get('/floor/read/:id', async (c) => {
  const row = await readRow(c.req.param('id'))
  if (!row) return c.notFound()
  return c.body(row.content, 200, { 'Content-Type': 'application/jose; charset=utf-8' })
})

let n = 0
app.get('/floor/audited/:id', async (c) => {
  const id = c.req.param('id')
  const row = await readRow(id)
  if (!row) return c.notFound()
  n++
  await pool.query({
    name: 'floor-audit',
    text: `insert into bench_floor_audit (occurred_at, event_type, action, outcome, reason, user_id, user_name, responsible_user_id, org_id,
       org_type, role, big_number, access_point, patient_id, data_segment, purpose, legal_basis, consent_id, break_glass, resource_type,
       resource_id, request_id, source_system, detail, prev_hash, hash)
     values (now(), 'dossier.read', 'R', 'permit', 'permit-consent', 'bench-floor', 'Bench floor', 'bench-floor', '90000003',
       'medical-escort', 'caregiver', '09000000330', '127.0.0.1', $1, 'dossier', 'handover', 'EXPLICIT_CONSENT', null, false, 'Bundle',
       $2, gen_random_uuid()::text, 'overdracht', '{"version":1}', $3, $3)`,
    values: [row.patient_id, id, String(n).padStart(64, '0')],
  })
  return c.body(row.content, 200, { 'Content-Type': 'application/jose; charset=utf-8' })
})

app.get('/healthz', (c) => c.json({ status: 'up' }))

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' })
process.on('SIGTERM', () => {
  server.close(() => {
    void pool.end().then(() => process.exit(0))
  })
  ;(server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.()
})
