/**
 * Checks an escort card in a terminal, without the service:
 *   npm run verify-card -- --png card.png --jwks jwks.json
 *   npm run verify-card -- --token eyJ... --jwks https://overdracht.example/.well-known/jwks.json
 * Options: --issuer (default urn:overdracht), --audience (default urn:overdracht:escort-card).
 * Exit code 0: valid; 1: not valid (the reason is printed); 2: wrong use.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { loadJwks, verdictText, verifyCard } from '../src/escort-card/verify-card.js'

function fail(message: string): never {
  process.stderr.write(`verify-card: ${message}\n`)
  process.exit(2)
}

const { values, positionals } = parseArgs({
  options: { png: { type: 'string' }, token: { type: 'string' }, jwks: { type: 'string' }, issuer: { type: 'string', default: 'urn:overdracht' }, audience: { type: 'string' } },
  allowPositionals: true,
  strict: true,
})
const token = values.token ?? positionals[0]
if (!values.png && !token) fail('give --png <file> or --token <text>')
if (!values.jwks) fail('give --jwks <file or URL> (the service publishes it at /.well-known/jwks.json)')

let jwks
try {
  jwks = await loadJwks(values.jwks)
} catch (err) {
  fail(`cannot read the key set: ${err instanceof Error ? err.message : 'unknown error'}`)
}
const verdict = await verifyCard({
  ...(values.png ? { png: await readFile(values.png) } : { token: token! }),
  jwks,
  issuer: values.issuer,
  ...(values.audience ? { audience: values.audience } : {}),
  now: new Date(),
})
process.stdout.write(verdictText(verdict))
process.exit(verdict.valid ? 0 : 1)
