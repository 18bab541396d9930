/**
 * What the key and token work of one dossier read costs, in process: the two ES256 verifications
 * (the caller's token and the consent token, jose with a local key set, as the service does), the
 * unwrap of the patient's data key (A256KW JWE, jose) and the decryption of a 30 KB dossier
 * (A256GCM, node:crypto), and a remembered verification (src/http/verified-jwt-cache.ts). For
 * comparison, the jose unwrap the service used before.
 *
 *   npx tsx bench/crypto-cost.ts [--iterations=2000] [--rounds=5]
 *
 * Prints CPU microseconds (user + system) per operation: the median over the rounds.
 */
import { randomBytes } from 'node:crypto'
import { compactDecrypt, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { verifiedJwt } from '../src/http/verified-jwt-cache.js'
import { decryptContent, encryptContent, newDataKey, unwrapDataKey, wrapDataKey } from '../src/patient/envelope.js'

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`))
  return found ? Number(found.slice(name.length + 3)) : fallback
}
const iterations = arg('iterations', 2000)
const rounds = arg('rounds', 5)

async function measure(name: string, op: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(500, iterations); i++) await op()
  const perOp: number[] = []
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < iterations; i++) await op()
    const used = process.cpuUsage(start)
    perOp.push((used.user + used.system) / iterations)
  }
  const median = [...perOp].sort((a, b) => a - b)[Math.floor(rounds / 2)]!
  console.log(`${name.padEnd(58)} ${median.toFixed(1).padStart(7)} µs  (rounds: ${perOp.map((x) => x.toFixed(0)).join(' ')})`)
  return median
}

const { publicKey, privateKey } = await generateKeyPair('ES256')
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] })
const token = await new SignJWT({ cid: 'c1', pur: 'handover' })
  .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'overdracht-consent+jwt' })
  .setSubject('4f0c1f4e-9a8b-4c7d-8e6f-5a4b3c2d1e0f')
  .setIssuer('https://overdracht.example')
  .setAudience('overdracht')
  .setIssuedAt()
  .setExpirationTime('1h')
  .setJti('j1')
  .sign(privateKey)

const master = { id: 'm1', key: new Uint8Array(randomBytes(32)) }
const patientId = '4f0c1f4e-9a8b-4c7d-8e6f-5a4b3c2d1e0f'
const dataKey = newDataKey()
const wrapped = await wrapDataKey(dataKey, master, patientId)
const dossier = JSON.stringify({ resourceType: 'Bundle', type: 'collection', note: 'x'.repeat(30_000) })
const encrypted = await encryptContent(dossier, dataKey, 'bundle-1')

if (!Buffer.from(await unwrapDataKey(wrapped, master, patientId)).equals(Buffer.from(dataKey))) throw new Error('unwrap differs')

const verify = () => jwtVerify(token, jwks, { issuer: 'https://overdracht.example', audience: 'overdracht', algorithms: ['ES256'] })
const es256 = await measure('ES256 verification (jose, local key set), each of two', verify)
const joseUnwrap = await measure('data key unwrap, A256KW JWE, jose compactDecrypt (before)', () => compactDecrypt(wrapped, master.key, { keyManagementAlgorithms: ['A256KW'], contentEncryptionAlgorithms: ['A256GCM'] }))
const unwrap = await measure('data key unwrap, the same JWE, unwrapDataKey (node:crypto)', () => unwrapDataKey(wrapped, master, patientId))
const remembered = await measure('ES256, the same token again (verifiedJwt hit)', () => verifiedJwt(jwks, token, new Date(), 5, verify))
const decrypt = await measure(`dossier decrypt, ${Math.round(dossier.length / 1000)} KB A256GCM (node:crypto)`, () => decryptContent(encrypted, dataKey, 'bundle-1'))
console.log(`per dossier read before: ${(2 * es256 + joseUnwrap + decrypt).toFixed(0)} µs of key and token work (2 × ES256 + jose unwrap + decrypt)`)
console.log(`per dossier read now, tokens seen before: ${(2 * remembered + unwrap + decrypt).toFixed(0)} µs; a token's first use: ${(2 * es256 + unwrap + decrypt).toFixed(0)} µs`)
