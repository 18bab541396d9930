/**
 * Work before authorisation: does a caller who may not upload still cost the service the parsing
 * and validation of its body? Starts the service as `npm start` does (development mode, embedded
 * PostgreSQL, a temporary data folder), then measures `GET /healthz` latency
 *   1. on an idle service,
 *   2. while two regievoerder tokens post 8 MB bundles over and over (refused before the body is read),
 *   3. for contrast, while a GZA caregiver posts the same bundles for a patient without consent: those
 *      are parsed and validated before the decision that needs the patient's consents.
 * Only loopback traffic; bounded in count. Run: npm run bench:reject
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10)
const PROBES = Number(process.env.BENCH_PROBES ?? 200)

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

function bundleOfBytes(target: number): string {
  const entries: unknown[] = [
    { fullUrl: 'urn:uuid:00000000-0000-4000-8000-000000000000', resource: { resourceType: 'Patient', identifier: [{ system: 'https://overdracht.nl/fhir/NamingSystem/v-nummer', value: 'V0000000001' }] } },
  ]
  let i = 1
  let size = 200
  while (size < target) {
    const entry = {
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: { resourceType: 'Observation', status: 'final', code: { text: 'Bench observation with some words of text' }, subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' }, valueString: 'x'.repeat(1800) },
    }
    size += JSON.stringify(entry).length + 1
    entries.push(entry)
    i++
  }
  return JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries })
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

async function probe(base: string, count: number): Promise<{ p50: number; p99: number; max: number }> {
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    const res = await fetch(`${base}/healthz`)
    await res.arrayBuffer()
    times.push(performance.now() - start)
    await new Promise((r) => setTimeout(r, 5))
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times) }
}

/** Posts the body `rounds` times from a worker thread, so that sending it does not slow the probes. */
function uploads(base: string, token: string, body: string, rounds: number, statuses: Map<number, number>): Promise<void> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads')
    ;(async () => {
      const out = []
      for (let i = 0; i < workerData.rounds; i++) {
        const res = await fetch(workerData.url, { method: 'POST', headers: { authorization: 'Bearer ' + workerData.token, 'content-type': 'application/fhir+json' }, body: workerData.body })
        await res.arrayBuffer()
        out.push(res.status)
      }
      parentPort.postMessage(out)
    })()`
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { url: `${base}/fhir/Bundle`, token, body, rounds } })
    worker.once('message', (out: number[]) => {
      for (const s of out) statuses.set(s, (statuses.get(s) ?? 0) + 1)
      resolve()
    })
    worker.once('error', reject)
  })
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'overdracht-bench-reject-'))
  const port = await freePort()
  const env = { ...process.env, OVERDRACHT_DATA_DIR: dataDir, PORT: String(port), OVERDRACHT_LOG_LEVEL: 'warn' }
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break
      } catch {
        /* not up yet */
      }
      if (i > 120) throw new Error('the service did not start')
      await new Promise((r) => setTimeout(r, 250))
    }
    const token = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { env }).toString().trim()
    const dtv = token(['--role', 'regievoerder', '--org-type', 'dtv', '--org', '90000004'])
    const gza = token(['--role', 'caregiver', '--org-type', 'gza', '--org', '90000001', '--big', '90000000101'])
    const body = bundleOfBytes(8 * 1024 * 1024)
    const mb = (Buffer.byteLength(body) / 1024 / 1024).toFixed(1)

    const idle = await probe(base, PROBES)
    const rows: string[] = [`| idle | ${idle.p50.toFixed(1)} | ${idle.p99.toFixed(1)} | ${idle.max.toFixed(1)} | |`]
    for (const [label, caller] of [
      [`two regievoerders posting ${mb} MB bundles`, dtv],
      [`two GZA caregivers posting ${mb} MB bundles, patient without consent`, gza],
    ] as const) {
      const statuses = new Map<number, number>()
      const load = Promise.all([uploads(base, caller, body, ROUNDS, statuses), uploads(base, caller, body, ROUNDS, statuses)])
      const loaded = await probe(base, PROBES)
      await load
      const answers = [...statuses].map(([s, n]) => `${n} x ${s}`).join(', ')
      rows.push(`| ${label} | ${loaded.p50.toFixed(1)} | ${loaded.p99.toFixed(1)} | ${loaded.max.toFixed(1)} | ${answers} |`)
    }
    console.log(`GET /healthz latency in ms (${PROBES} probes each; ${ROUNDS} uploads per poster)\n`)
    console.log('| while | p50 | p99 | max | upload answers |\n|---|---|---|---|---|')
    for (const row of rows) console.log(row)
  } finally {
    server.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 500))
    server.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
}

await main()
