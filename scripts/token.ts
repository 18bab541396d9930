/**
 * Development mode only: mints a caller token with the service's own development issuer key.
 *   npm run token -- --role caregiver --org-type gza --org <URA> --big <11 digits> [--sub id] [--name "..."] [--hours 8]
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../src/config.js'
import { ORG_TYPES, ROLES } from '../src/http/principal.js'
import { ensureDevIdentity, mintDevCallerToken } from '../src/http/dev-identity.js'

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    'org-type': { type: 'string' },
    org: { type: 'string' },
    big: { type: 'string' },
    sub: { type: 'string' },
    name: { type: 'string' },
    hours: { type: 'string', default: '8' },
  },
  strict: true,
})

let config
try {
  config = loadConfig(process.env)
} catch (err) {
  fail(err instanceof ConfigError ? err.message : 'cannot read configuration')
}
if (!config.settings.developmentMode) fail('tokens can only be minted in development mode (no OVERDRACHT_AUTH_* set)')
const role = values.role
const orgType = values['org-type']
if (!role || !(ROLES as readonly string[]).includes(role)) fail(`--role must be one of ${ROLES.join(', ')}`)
if (!orgType || !(ORG_TYPES as readonly string[]).includes(orgType)) fail(`--org-type must be one of ${ORG_TYPES.join(', ')}`)
if (!values.org) fail('--org <organisation identifier, e.g. a URA number> is required')
if (role === 'caregiver' && !values.big) fail('--big <11 digits> is required for a caregiver')
if (values.big !== undefined && !/^\d{11}$/.test(values.big)) fail('--big must be 11 digits')
const hours = Number(values.hours)
if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 7) fail('--hours must be between 0 and 168')

const identity = await ensureDevIdentity(config.dataDir)
const token = await mintDevCallerToken(
  identity,
  {
    sub: values.sub ?? `dev-${role}-${values.org}`,
    ...(values.name ? { name: values.name } : {}),
    org: values.org,
    org_type: orgType,
    role,
    ...(values.big ? { big: values.big } : {}),
  },
  Math.round(hours * 3600),
)
process.stdout.write(`${token}\n`)
