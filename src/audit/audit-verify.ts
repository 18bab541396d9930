import type { Executor } from './audit.repository.js'
import { auditChainPage } from './audit.repository.js'
import { GENESIS_HASH, verifyRun, type ChainProblem, type ChainedFields } from './audit-chain.js'

export type VerifyResult = { ok: true; entries: number } | { ok: false; entries: number; problem: ChainProblem }

/** Walks the whole chain in id order, a page at a time, and names the first entry that breaks it. */
export async function verifyAuditChain(db: Executor, key: Uint8Array, pageSize = 5000): Promise<VerifyResult> {
  let prev: { hash: string; id: string | undefined } = { hash: GENESIS_HASH, id: undefined }
  let entries = 0
  for (;;) {
    const page = await auditChainPage(db, prev.id, pageSize)
    if (page.length === 0) return { ok: true, entries }
    const result = verifyRun(key, prev, page as unknown as (ChainedFields & { prev_hash: string; hash: string })[])
    if (!result.ok) return { ok: false, entries: entries + page.findIndex((e) => String(e.id) === result.problem.id), problem: result.problem }
    entries += page.length
    prev = result.last
  }
}
