import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { FlattenedSign } from 'jose'
import type { ConsentKeyRing } from '../consent/consent-keys.js'
import { EndpointRefused, hostOf, permittedAddresses, checkEndpointForm, type GuardOptions } from './endpoint-guard.js'

/** The header carrying the detached JWS (RFC 7515 appendix F) over the exact body bytes. */
export const SIGNATURE_HEADER = 'x-overdracht-signature'
export const NOTIFICATION_JWS_TYP = 'overdracht-notification+jws'

/** What a receiver is sent: an event, a Task reference and times. No person, no medical content. */
export interface NotificationBody {
  id: string
  kind: string
  subscription: string
  task: string
  occurredAt: string
  attempt: number
}

/** Signs a body with the service's published key: the protected header and signature, payload detached. */
export async function signDetached(keys: ConsentKeyRing, body: Uint8Array): Promise<string> {
  const { kid, key } = await keys.signingKey()
  const jws = await new FlattenedSign(body).setProtectedHeader({ alg: 'ES256', kid, typ: NOTIFICATION_JWS_TYP }).sign(key)
  return `${jws.protected}..${jws.signature}`
}

export type DeliveryResult = { ok: true } | { ok: false; error: string }

/**
 * One POST of a notification: addresses checked again at connection time, no redirects followed,
 * a short timeout for the whole exchange. The answer's body is read and dropped (at most 64 KB).
 */
export async function postNotification(
  endpoint: string,
  body: Uint8Array,
  headers: Record<string, string>,
  options: GuardOptions & { timeoutMs: number },
): Promise<DeliveryResult> {
  let url: URL
  try {
    url = checkEndpointForm(endpoint, options)
  } catch (err) {
    return { ok: false, error: err instanceof EndpointRefused ? err.message : 'The endpoint is not valid' }
  }
  const host = hostOf(url)
  let addresses: string[]
  try {
    addresses = await permittedAddresses(host, options)
  } catch (err) {
    return { ok: false, error: err instanceof EndpointRefused ? err.message : 'The endpoint host does not resolve' }
  }
  // The connection uses only the addresses just checked: no second, different resolution.
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    const first = addresses[0]!
    const family = first.includes(':') ? 6 : 4
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, addresses.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4 })))
    else callback(null, first, family)
  }
  const client = url.protocol === 'https:' ? https : http
  return new Promise<DeliveryResult>((resolve) => {
    let settled = false
    const done = (r: DeliveryResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const req = client.request(
      url,
      {
        method: 'POST',
        lookup,
        agent: false,
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.byteLength), 'user-agent': 'overdracht-notify/1' },
      },
      (res) => {
        let received = 0
        res.on('data', (chunk: Buffer) => {
          received += chunk.length
          if (received > 65_536) res.destroy()
        })
        res.on('end', () => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) done({ ok: true })
          else if (status >= 300 && status < 400) done({ ok: false, error: `The endpoint answered ${status} (a redirect, not followed)` })
          else done({ ok: false, error: `The endpoint answered ${status}` })
        })
        res.on('error', () => done({ ok: false, error: 'The connection broke while reading the answer' }))
      },
    )
    const timer = setTimeout(() => {
      req.destroy()
      done({ ok: false, error: `No answer within ${options.timeoutMs} ms` })
    }, options.timeoutMs)
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: `The endpoint could not be reached (${err.code ?? 'connection error'})` }))
    req.end(body)
  })
}
