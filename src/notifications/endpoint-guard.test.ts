import { describe, expect, it } from 'vitest'
import { checkEndpoint, isNonPublicAddress } from './endpoint-guard.js'

describe('isNonPublicAddress', () => {
  it.each([
    '127.0.0.1', '127.255.0.9', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255',
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe',
    '::127.0.0.1', '64:ff9b::7f00:1', '2001:db8::1', '2002:7f00:1::', 'not-an-address',
  ])('%s is not public', (address) => {
    expect(isNonPublicAddress(address)).toBe(true)
  })

  it.each(['8.8.8.8', '93.184.215.14', '2a00:1450:4001:80b::200e', '2606:4700::6810:84e5', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(isNonPublicAddress(address)).toBe(false)
  })
})

describe('checkEndpoint', () => {
  const resolveTo = (addresses: string[]) => async () => addresses
  it('a host with one private address among public ones is refused (every address is checked)', async () => {
    await expect(checkEndpoint('https://receiver.example/n', { developmentMode: false, allowHosts: [], resolve: resolveTo(['93.184.215.14', '10.0.0.5']) })).rejects.toThrow(/only to public addresses/)
  })
  it('an allow-listed host may resolve to the loopback', async () => {
    await expect(checkEndpoint('https://receiver.internal/n', { developmentMode: false, allowHosts: ['receiver.internal'], resolve: resolveTo(['127.0.0.1']) })).resolves.toBeInstanceOf(URL)
  })
  it('http is refused outside development mode, even for an allow-listed host', async () => {
    await expect(checkEndpoint('http://receiver.internal/n', { developmentMode: false, allowHosts: ['receiver.internal'], resolve: resolveTo(['127.0.0.1']) })).rejects.toThrow(/https/)
  })
  it('a name that does not resolve and one that resolves to a private address get the same answer: it tells nothing of the network', async () => {
    const options = { developmentMode: false, allowHosts: [] }
    const inside = await checkEndpoint('https://db.internal/n', { ...options, resolve: resolveTo(['10.0.0.5']) }).catch((e: Error) => e.message)
    const nowhere = await checkEndpoint('https://nowhere.example/n', { ...options, resolve: async () => { throw new Error('ENOTFOUND') } }).catch((e: Error) => e.message)
    expect(inside).toBe(nowhere)
  })

  it('a host that does not resolve is refused', async () => {
    await expect(checkEndpoint('https://nowhere.example/n', { developmentMode: false, allowHosts: [], resolve: async () => { throw new Error('ENOTFOUND') } })).rejects.toThrow(/resolve/)
  })
})
