import { createHmac, hkdfSync } from 'node:crypto'
import type { AuditEventRow } from '../db/schema.js'

/**
 * The audit log's hash chain. Each entry's hash is an HMAC over the previous entry's hash and the
 * entry's own fields, keyed with a key derived from the master key: someone who can write to the
 * database but does not hold the master key cannot rewrite a stretch of the chain so that it
 * verifies again.
 */
export const GENESIS_HASH = '0'.repeat(64)

export function deriveAuditKey(masterKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), 'overdracht audit chain v1', 32))
}

/** The fields an entry commits to: the stored row without its own chain links. */
export type ChainedFields = Omit<AuditEventRow, 'prev_hash' | 'hash'> & { detail: unknown }

/** JSON with object keys sorted at every level: jsonb does not keep key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
}

export function entryHash(key: Uint8Array, prevHash: string, e: ChainedFields): string {
  const body = canonicalJson({
    id: String(e.id),
    occurred_at: e.occurred_at.toISOString(),
    event_type: e.event_type,
    action: e.action,
    outcome: e.outcome,
    reason: e.reason,
    user_id: e.user_id,
    user_name: e.user_name,
    responsible_user_id: e.responsible_user_id,
    org_id: e.org_id,
    org_type: e.org_type,
    role: e.role,
    big_number: e.big_number,
    access_point: e.access_point,
    patient_id: e.patient_id,
    data_segment: e.data_segment,
    purpose: e.purpose,
    legal_basis: e.legal_basis,
    consent_id: e.consent_id,
    break_glass: e.break_glass,
    resource_type: e.resource_type,
    resource_id: e.resource_id,
    request_id: e.request_id,
    source_system: e.source_system,
    detail: e.detail ?? null,
  })
  return createHmac('sha256', key).update(prevHash).update('\n').update(body).digest('hex')
}

export interface ChainProblem {
  id: string
  problem: 'changed' | 'out-of-chain'
  message: string
}

/**
 * Checks a run of entries in id order, continuing from `prevHash` (the hash of the entry before
 * the run, or the genesis hash). Returns the first problem, or the hash to continue from.
 */
export function verifyRun(
  key: Uint8Array,
  prev: { hash: string; id: string | undefined },
  entries: readonly (ChainedFields & { prev_hash: string; hash: string })[],
): { ok: true; last: { hash: string; id: string | undefined } } | { ok: false; problem: ChainProblem } {
  let { hash, id } = prev
  for (const e of entries) {
    if (e.prev_hash !== hash) {
      return {
        ok: false,
        problem: {
          id: String(e.id),
          problem: 'out-of-chain',
          message:
            id === undefined
              ? `entry ${e.id} does not start the chain: entries before it were removed, or it was inserted`
              : `entry ${e.id} does not follow entry ${id}: an entry between them was removed, or this one was inserted`,
        },
      }
    }
    if (entryHash(key, e.prev_hash, e) !== e.hash) {
      return { ok: false, problem: { id: String(e.id), problem: 'changed', message: `entry ${e.id} was changed, or inserted without the chain key` } }
    }
    hash = e.hash
    id = String(e.id)
  }
  return { ok: true, last: { hash, id } }
}
