import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose'

/** Development mode's own identity provider: a key pair in the data folder. */
export const DEV_ISSUER = 'urn:overdracht:development-issuer'
export const DEV_AUDIENCE = 'urn:overdracht'
const FILE = 'dev-issuer-key.json'
const MASTER_KEY_FILE = 'dev-master.key'

export interface DevIdentity {
  privateKey: CryptoKey
  publicJwk: JWK
  kid: string
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Loads the development issuer key, making it on first start (file mode 0600). */
export async function ensureDevIdentity(dataDir: string): Promise<DevIdentity> {
  await mkdir(dataDir, { recursive: true })
  const path = join(dataDir, FILE)
  let text = await readIfExists(path)
  if (text === undefined) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(privateKey)), kid: `dev-${randomBytes(6).toString('hex')}`, alg: 'ES256' }
    try {
      await writeFile(path, JSON.stringify(jwk, null, 2), { mode: 0o600, flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    text = await readFile(path, 'utf8')
  }
  const jwk = JSON.parse(text) as JWK & { kid: string }
  const { d: _d, ...publicJwk } = jwk
  return { privateKey: (await importJWK(jwk, 'ES256')) as CryptoKey, publicJwk, kid: jwk.kid }
}

/** Loads or makes the development master key (never used when OVERDRACHT_MASTER_KEY is set). */
export async function ensureDevMasterKey(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true })
  const path = join(dataDir, MASTER_KEY_FILE)
  const existing = await readIfExists(path)
  if (existing !== undefined) return existing.trim()
  try {
    await writeFile(path, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return (await readFile(path, 'utf8')).trim()
}

export interface CallerClaims {
  sub: string
  name?: string
  org: string
  org_type: string
  role: string
  big?: string
}

export async function mintDevCallerToken(identity: DevIdentity, claims: CallerClaims, lifetimeSeconds = 8 * 3600): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: identity.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${lifetimeSeconds}s`)
    .sign(identity.privateKey)
}
