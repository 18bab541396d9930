import { readFile } from 'node:fs/promises'
import type { JSONWebKeySet } from 'jose'
import { verifyCardToken, type CardVerdict } from './card-token.js'

type JsQR = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null

/**
 * Reads the QR code in a PNG image; undefined when none is found. jsqr and pngjs are loaded only
 * here, so a token given as text is checked without them (they are development dependencies).
 */
export async function decodeQrPng(png: Buffer): Promise<string | undefined> {
  const [{ PNG }, jsQRModule] = await Promise.all([import('pngjs'), import('jsqr')])
  // jsqr is CommonJS with an `exports.default`: the default import is the module object.
  const mod = jsQRModule.default as unknown as { default?: JsQR }
  const jsQR: JsQR = mod.default ?? (mod as unknown as JsQR)
  const image = PNG.sync.read(png)
  const found = jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)
  return found?.data || undefined
}

/** The public keys from a JWKS file or URL (fetched once; a file works without a network). */
export async function loadJwks(source: string): Promise<JSONWebKeySet> {
  if (/^https?:\/\//.test(source)) {
    const res = await fetch(source, { redirect: 'error', signal: AbortSignal.timeout(10_000) })
    if (!res.ok) throw new Error(`the key set at ${source} answered ${res.status}`)
    return (await res.json()) as JSONWebKeySet
  }
  return JSON.parse(await readFile(source, 'utf8')) as JSONWebKeySet
}

export interface VerifyCardInput {
  token?: string
  png?: Buffer
  jwks: JSONWebKeySet
  issuer: string
  audience?: string
  now: Date
}

/** What `npm run verify-card` does: read the card, verify it, and say what it holds or why it is not valid. */
export async function verifyCard(input: VerifyCardInput): Promise<CardVerdict> {
  const token = input.token ?? (input.png ? await decodeQrPng(input.png) : undefined)
  if (!token) return { valid: false, reason: 'malformed', nl: 'Er is geen QR-code gevonden.', en: 'No QR code was found.' }
  return verifyCardToken(token, input.jwks, { issuer: input.issuer, ...(input.audience ? { audience: input.audience } : {}), now: input.now })
}

/** The verdict as lines for a terminal, Dutch and English. */
export function verdictText(verdict: CardVerdict): string {
  if (!verdict.valid) return `NIET GELDIG / NOT VALID\n${verdict.nl}\n${verdict.en}\n`
  const c = verdict.claims
  const lines = [
    'GELDIG / VALID',
    `Vertrek / Departure: ${new Date(c.dep * 1000).toISOString()}`,
    `Geldig tot / Valid until: ${new Date(c.exp! * 1000).toISOString()}`,
    `Rol / Role: ${c.role}`,
    ...(verdict.words.length ? verdict.words.map((w) => `- ${w.nl} / ${w.en}`) : ['- Geen aandachtspunten / No points of attention']),
  ]
  return `${lines.join('\n')}\n`
}
