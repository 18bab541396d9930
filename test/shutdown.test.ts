import { descendantsOf } from './support/processes.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../src/db/database.js'
import { ensureDevIdentity, mintDevCallerToken } from '../src/http/dev-identity.js'
import { consentResource, handoverBundle, newVNummer } from './support/fhir-builders.js'

/*
 * What a container runtime does: SIGTERM to the process it started, here `npm start` itself,
 * while an upload is still arriving. The upload completes and is stored; nothing is left running.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'overdracht-shutdown-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}


const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))))

describe('a clean shutdown', () => {
  it('SIGTERM to the npm start process during a slow upload: the upload completes with 201 and is stored, no process is left, exit code 0', async () => {
    const port = await freePort()
    const npm = spawn('npm', ['start'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, OVERDRACHT_DATA_DIR: dataDir, PORT: String(port), OVERDRACHT_LOG_LEVEL: 'warn', DATABASE_URL: '' },
      stdio: 'ignore',
    })
    const base = `http://127.0.0.1:${port}`
    try {
      for (let i = 0; ; i++) {
        if (await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) break
        if (i > 240) throw new Error('npm start did not answer /healthz')
        await new Promise((r) => setTimeout(r, 250))
      }
      const identity = await ensureDevIdentity(dataDir)
      const token = await mintDevCallerToken(identity, { sub: 'gza-1', org: '90000001', org_type: 'gza', role: 'caregiver', big: '90000000101' })
      const vNummer = newVNummer()
      const consent = await fetch(`${base}/fhir/Consent`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify(consentResource({ vNummer })),
      })
      expect(consent.status, await consent.text()).toBe(201)

      const body = Buffer.from(JSON.stringify(handoverBundle(vNummer)))
      const descendants: number[] = []
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(`${base}/fhir/Bundle`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', 'content-length': String(body.length) },
        })
        req.on('response', (res) => {
          let text = ''
          res.on('data', (d) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        })
        req.on('error', reject)
        // Half the body now, the signal, the rest a little later: the upload is in flight.
        req.write(body.subarray(0, body.length >> 1))
        setTimeout(async () => {
          descendants.push(...descendantsOf(npm.pid!))
          npm.kill('SIGTERM')
          setTimeout(() => req.end(body.subarray(body.length >> 1)), 500)
        }, 200)
      })
      const { status, text } = await answer
      expect(status, text).toBe(201)
      expect(await exited(npm)).toBe(0)
      // Whatever npm started (the service, and anything under it) is gone too.
      // (esbuild's helper of the TypeScript loader ends as soon as its parent's pipe closes.)
      for (let i = 0; i < 30 && descendants.some(alive); i++) await new Promise((r) => setTimeout(r, 100))
      for (const pid of descendants) expect(alive(pid), `process ${pid} outlived npm start`).toBe(false)

      const db = await openDatabase({ kind: 'embedded', dataDir: join(dataDir, 'pglite') })
      try {
        const rows = await db.selectFrom('bundle_version').select('id').execute()
        expect(rows).toHaveLength(1)
      } finally {
        await db.destroy()
      }
    } finally {
      if (npm.pid && alive(npm.pid)) npm.kill('SIGKILL')
    }
  }, 120_000)
})
