import type { Executor } from '../db/executor.js'

/** Plain queries on `web_session`; only session.ts uses them. */

export const insertWebSession = (
  db: Executor,
  row: {
    id_hash: string
    kind: 'pending' | 'session'
    principal: string | null
    csrf_token: string | null
    login: string | null
    id_token: string | null
    created_at: Date
    last_seen_at: Date
    expires_at: Date
  },
) => db.insertInto('web_session').values(row).execute()

/** A live row of the kind asked for; undefined when absent or past its absolute end. */
export const findWebSession = (db: Executor, idHash: string, kind: 'pending' | 'session', now: Date) =>
  db
    .selectFrom('web_session')
    .selectAll()
    .where('id_hash', '=', idHash)
    .where('kind', '=', kind)
    .where('expires_at', '>', now)
    .executeTakeFirst()

export const touchWebSession = (db: Executor, idHash: string, now: Date) =>
  db.updateTable('web_session').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute()

export const deleteWebSession = (db: Executor, idHash: string) =>
  db.deleteFrom('web_session').where('id_hash', '=', idHash).executeTakeFirst()

/** Takes a pending sign-in: it can be used once. */
export const takePendingSignIn = (db: Executor, idHash: string, now: Date) =>
  db
    .deleteFrom('web_session')
    .where('id_hash', '=', idHash)
    .where('kind', '=', 'pending')
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst()

/** Removes ended rows: past their absolute end, or sessions idle too long. */
export const purgeWebSessions = (db: Executor, now: Date, idleSince: Date) =>
  db
    .deleteFrom('web_session')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb.and([eb('kind', '=', 'session'), eb('last_seen_at', '<=', idleSince)])]))
    .execute()
