import { createCipheriv, randomBytes } from 'node:crypto'
import { compactDecrypt, CompactEncrypt } from 'jose'
import { describe, expect, it } from 'vitest'
import { decryptContent, encryptContent, newDataKey, unwrapDataKey, wrapDataKey } from './envelope.js'

const text = JSON.stringify({ resourceType: 'Bundle', type: 'collection', note: 'é ✓ '.repeat(2000) })

describe('content encryption (JWE dir + A256GCM)', () => {
  it('round-trips, with a fresh IV each time', async () => {
    const key = newDataKey()
    const a = await encryptContent(text, key, 'bundle-1')
    const b = await encryptContent(text, key, 'bundle-1')
    expect(a).not.toBe(b)
    expect(await decryptContent(a, key, 'bundle-1')).toBe(text)
  })

  it('is the JWE jose writes and reads', async () => {
    const key = newDataKey()
    const ours = await encryptContent(text, key, 'bundle-1')
    const opened = await compactDecrypt(ours, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
    expect(new TextDecoder().decode(opened.plaintext)).toBe(text)
    expect(opened.protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1' })
    const theirs = await new CompactEncrypt(new TextEncoder().encode(text)).setProtectedHeader({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1' }).encrypt(key)
    expect(await decryptContent(theirs, key, 'bundle-1')).toBe(text)
  })

  it('refuses a ciphertext moved to another row, a wrong key and any changed byte', async () => {
    const key = newDataKey()
    const jwe = await encryptContent(text, key, 'bundle-1')
    await expect(decryptContent(jwe, key, 'bundle-2')).rejects.toThrow()
    await expect(decryptContent(jwe, newDataKey(), 'bundle-1')).rejects.toThrow()
    const parts = jwe.split('.')
    for (const i of [0, 2, 3, 4]) {
      const changed = [...parts]
      const p = changed[i]!
      changed[i] = `${p.slice(0, 5)}${p[5] === 'A' ? 'B' : 'A'}${p.slice(6)}`
      await expect(decryptContent(changed.join('.'), key, 'bundle-1')).rejects.toThrow()
    }
  })

  it('a ciphertext with a character outside the alphabet is refused, or decodes to the authentic bytes and nothing else', async () => {
    const key = newDataKey()
    const jwe = await encryptContent(text, key, 'bundle-1')
    const parts = jwe.split('.')
    const ciphertext = parts[3]!
    for (const c of ['!', ' ', '=', '+', '/', '*', '\u00e9']) {
      for (const changed of [`${ciphertext.slice(0, 10)}${c}${ciphertext.slice(11)}`, `${ciphertext.slice(0, 10)}${c}${ciphertext.slice(10)}`]) {
        const candidate = [parts[0], parts[1], parts[2], changed, parts[4]].join('.')
        const outcome = await decryptContent(candidate, key, 'bundle-1').then((t) => t, () => 'refused')
        expect(['refused', text], `with ${JSON.stringify(c)}`).toContain(outcome)
      }
    }
    // The other parts are still held to the alphabet.
    for (const i of [0, 2, 4]) {
      const changed = [...parts]
      changed[i] = `${changed[i]!}!`
      await expect(decryptContent(changed.join('.'), key, 'bundle-1')).rejects.toThrow(/base64url/)
    }
  })

  it('refuses another header: another bundle id in it, other algorithms, extra parameters, a key', async () => {
    const key = newDataKey()
    // A JWE with a valid tag over whatever header is given: only the header checks can refuse it.
    const sealed = (header: Record<string, unknown>, encryptedKey = '') => {
      const h = Buffer.from(JSON.stringify(header)).toString('base64url')
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(h, 'ascii'))
      const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
      return `${h}.${encryptedKey}.${iv.toString('base64url')}.${ct.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
    }
    expect(await decryptContent(sealed({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1' }), key, 'bundle-1')).toBe(text)
    await expect(decryptContent(sealed({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-2' }), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent(sealed({ alg: 'dir', enc: 'A128GCM', bid: 'bundle-1' }), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent(sealed({ alg: 'A256KW', enc: 'A256GCM', bid: 'bundle-1' }), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent(sealed({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1', zip: 'DEF' }), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent(sealed({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1', crit: ['x'], x: 1 }), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent(sealed({ alg: 'dir', enc: 'A256GCM', bid: 'bundle-1' }, 'AAAA'), key, 'bundle-1')).rejects.toThrow()
    await expect(decryptContent('not.a.jwe', key, 'bundle-1')).rejects.toThrow()
  })
})

describe('data key wrapping (JWE A256KW + A256GCM): wrapped with jose, unwrapped with node:crypto', () => {
  const master = { id: 'm1', key: new Uint8Array(randomBytes(32)) }
  const patient = '4f0c1f4e-9a8b-4c7d-8e6f-5a4b3c2d1e0f'

  it('unwraps what jose wrapped, and jose unwraps the same', async () => {
    const key = newDataKey()
    const wrapped = await wrapDataKey(key, master, patient)
    expect(Buffer.from(await unwrapDataKey(wrapped, master, patient))).toEqual(Buffer.from(key))
    const opened = await compactDecrypt(wrapped, master.key, { keyManagementAlgorithms: ['A256KW'], contentEncryptionAlgorithms: ['A256GCM'] })
    expect(Buffer.from(opened.plaintext)).toEqual(Buffer.from(key))
  })

  it('refuses another patient, another master key and any changed byte', async () => {
    const wrapped = await wrapDataKey(newDataKey(), master, patient)
    await expect(unwrapDataKey(wrapped, master, '00000000-0000-4000-8000-000000000000')).rejects.toThrow(/another patient/)
    await expect(unwrapDataKey(wrapped, { id: 'm1', key: new Uint8Array(randomBytes(32)) }, patient)).rejects.toThrow(/decryption failed/)
    const parts = wrapped.split('.')
    for (const i of [0, 1, 2, 3, 4]) {
      const changed = [...parts]
      const p = changed[i]!
      changed[i] = `${p.slice(0, 5)}${p[5] === 'A' ? 'B' : 'A'}${p.slice(6)}`
      await expect(unwrapDataKey(changed.join('.'), master, patient)).rejects.toThrow()
    }
  })

  it('refuses other algorithms and header parameters it does not write, even when jose made them validly', async () => {
    const key = newDataKey()
    const made = (header: Record<string, unknown>, wrapKey: Uint8Array = master.key) => new CompactEncrypt(key).setProtectedHeader(header as never).encrypt(wrapKey)
    expect(Buffer.from(await unwrapDataKey(await made({ alg: 'A256KW', enc: 'A256GCM', kid: 'm1', pid: patient }), master, patient))).toEqual(Buffer.from(key))
    await expect(unwrapDataKey(await made({ alg: 'A256KW', enc: 'A256GCM', kid: 'm1', pid: patient, extra: 1 }), master, patient)).rejects.toThrow(/unexpected parameters/)
    await expect(unwrapDataKey(await made({ alg: 'A256KW', enc: 'A128GCM', kid: 'm1', pid: patient }), master, patient)).rejects.toThrow(/algorithm/)
    await expect(unwrapDataKey(await made({ alg: 'dir', enc: 'A256GCM', pid: patient }, master.key), master, patient)).rejects.toThrow(/algorithm/)
  })
})
