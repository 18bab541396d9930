import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * No server-side request forgery through a subscription: an endpoint is https (http only in
 * development mode), carries no user name or password, and every address its host resolves to is
 * public, unless the host is allow-listed by configuration. The same check runs again on each
 * delivery, on the addresses the connection will use (a host may resolve differently later).
 */

const BLOCKED = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net, prefix, 'ipv6')

/** The 8 groups of an IPv6 address (with an embedded dotted IPv4 tail), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().split('%')[0]!
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/)
  if (dotted) {
    const parts = dotted[1]!.split('.').map(Number)
    text = text.slice(0, -dotted[1]!.length) + `${((parts[0]! << 8) | parts[1]!).toString(16)}:${((parts[2]! << 8) | parts[3]!).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail !== undefined && tail !== '' ? tail.split(':') : []
  const fill = tail !== undefined ? 8 - h.length - t.length : 0
  const groups = [...h, ...Array(Math.max(0, fill)).fill('0'), ...t].map((g) => parseInt(g, 16))
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

/** Whether an address is private, loopback, link-local, reserved or otherwise not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return BLOCKED.check(address, 'ipv4')
  if (family !== 6) return true
  const g = ipv6Groups(address)
  if (!g) return true
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d): judged as the IPv4 address they carry.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && (g[6] !== 0 || g[7]! > 1)))) {
    const v4 = `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`
    return BLOCKED.check(v4, 'ipv4')
  }
  return BLOCKED.check(g.map((x) => x.toString(16)).join(':'), 'ipv6')
}

export interface GuardOptions {
  developmentMode: boolean
  allowHosts: readonly string[]
  /** Resolves a host name to all its addresses; the system resolver unless a test passes its own. */
  resolve?: (host: string) => Promise<string[]>
}

export const systemResolve = async (host: string): Promise<string[]> =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address)

/** The host as the allow-list and the resolver see it: lower case, IPv6 without brackets. */
export const hostOf = (url: URL) => url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')

export class EndpointRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EndpointRefused'
  }
}

/** Checks the form of an endpoint URL; returns it parsed. Throws EndpointRefused with a plain reason. */
export function checkEndpointForm(endpoint: string, options: Pick<GuardOptions, 'developmentMode'>): URL {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new EndpointRefused('The endpoint is not an absolute URL')
  }
  if (url.protocol !== 'https:' && !(options.developmentMode && url.protocol === 'http:')) {
    throw new EndpointRefused(options.developmentMode ? 'The endpoint must be an http or https URL' : 'The endpoint must be an https URL')
  }
  if (url.username || url.password) throw new EndpointRefused('The endpoint must not carry a user name or password')
  if (url.hash) throw new EndpointRefused('The endpoint must not have a fragment')
  if (endpoint.length > 2048) throw new EndpointRefused('The endpoint is too long')
  return url
}

/**
 * The addresses a connection to the host may use: every one the host resolves to, each public, or
 * the host allow-listed. Throws EndpointRefused.
 */
export async function permittedAddresses(host: string, options: GuardOptions): Promise<string[]> {
  const allowed = options.allowHosts.includes(host)
  if (isIP(host)) {
    if (!allowed && isNonPublicAddress(host)) throw new EndpointRefused('The endpoint is a private, loopback, link-local or reserved address, which is refused')
    return [host]
  }
  // One answer for a name that does not resolve and one that resolves inside: the refusal tells
  // the person who registers nothing about the service's own network.
  const refused = new EndpointRefused('The endpoint host must resolve, and only to public addresses')
  let addresses: string[]
  try {
    addresses = await (options.resolve ?? systemResolve)(host)
  } catch {
    throw refused
  }
  if (addresses.length === 0) throw refused
  if (!allowed && addresses.some(isNonPublicAddress)) throw refused
  return addresses
}

/** The whole check of a subscription's endpoint, at registration. */
export async function checkEndpoint(endpoint: string, options: GuardOptions): Promise<URL> {
  const url = checkEndpointForm(endpoint, options)
  await permittedAddresses(hostOf(url), options)
  return url
}
