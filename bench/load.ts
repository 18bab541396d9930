/**
 * One measured load run against a server process, with the CPU time that the server process and
 * the PostgreSQL processes spent during the run read from /proc (no hooks in the app).
 *
 * - Saturation (no rate): autocannon, each of N connections sending its next request as soon as the
 *   answer to the last one arrives (closed loop).
 * - Paced (a rate): an open-loop sender here, one request every 1/rate seconds over at most N
 *   keep-alive connections, whether or not earlier answers have come (a server that falls behind
 *   gets a queue, and the latency shows it); latency counted from the moment this process sent the
 *   request, so its own pauses (it shares the cores) are not charged to the server: they are
 *   reported apart (`loadGeneratorLagMs`). Not autocannon's `overallRate`: that lets each
 *   connection send its whole per-second quota at the top of every second, which measures bursts.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import autocannon, { type Request } from 'autocannon'

const TICKS_PER_SECOND = 100 // getconf CLK_TCK on Linux

/** utime + stime of a process, in clock ticks; undefined when it is gone. */
export function processTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // After the command: state(3) ppid(4) ... utime(14) stime(15), counted from 1 in proc(5).
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return undefined
  }
}

/** `pid` and every process below it (service processes of OVERDRACHT_WORKERS), from /proc. */
export function withDescendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      /* gone */
    }
  }
  const out = [pid]
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []))
  return out
}

/**
 * The benchmark's PostgreSQL server: its postmaster pid (set by run.ts from postmaster.pid), so
 * other PostgreSQL servers on the machine are not counted. Unknown: every `postgres` process.
 */
export const postgresServer: { postmasterPid: number | undefined } = { postmasterPid: undefined }

/** The server's processes (postmaster, backends, WAL writer, ...): pid -> CPU ticks. */
export function postgresTicks(): Map<number, number> {
  const out = new Map<number, number>()
  const root = postgresServer.postmasterPid
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue
      if (root !== undefined && pid !== root) {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        if (ppid !== root) continue
      }
    } catch {
      continue
    }
    const ticks = processTicks(pid)
    if (ticks !== undefined) out.set(pid, ticks)
  }
  return out
}

/** Busy and total CPU ticks of the whole machine (/proc/stat), to see whether anything else ran. */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = line.reduce((a, b) => a + b, 0)
  const idle = (line[3] ?? 0) + (line[4] ?? 0)
  return { busy: total - idle, total }
}

function postgresDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0
  for (const [pid, ticks] of after) sum += ticks - (before.get(pid) ?? 0)
  return sum
}

export interface LoadSpec {
  /** One URL per server instance; connections (and paced requests) are spread evenly over them. */
  url: string | string[]
  connections: number
  durationS: number
  /** Requests per second over all connections; absent: as fast as the server answers. */
  rate?: number
  request: Request
  /** The status every answer must have. */
  expectStatus: number
}

export interface LoadResult {
  requests: number
  rps: number
  durationS: number
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number }
  /** Answers with another status, and connection errors / timeouts. */
  unexpected: number
  errors: number
  statuses: Record<string, number>
  cpuMsPerRequest: { server: number; postgres: number; loadGenerator: number }
  cpuUtilisation: { server: number; postgres: number; loadGenerator: number }
  /** Cores busy with anything else on the machine during the run (other work disturbs the figures). */
  otherCores: number
  /** Paced runs that fell more than 2 s behind and were stopped: requests left unanswered. */
  abandoned?: number
  /** Paced runs: how late the load generator's own event loop ran (it sends late by as much). */
  loadGeneratorLagMs?: { p99: number; max: number }
  /** From the server's statistics (pg_stat_wal): WAL flushes to disk and WAL bytes per request. */
  db?: { walSyncsPerRequest: number; walBytesPerRequest: number }
}

export interface DbCounters {
  walSyncs: number
  walBytes: number
}

const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!)
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits

interface Collected {
  /** Paced runs that fell behind: requests never answered (or never sent) when the run stopped. */
  abandoned?: number
  /** Event-loop delay of this (the load generator's) process during a paced run. */
  loadGeneratorLagMs?: { p99: number; max: number }
  latencies: Float64Array
  count: number
  statuses: Record<string, number>
  errors: number
  durationS: number
}

function collector() {
  const c: Collected = { latencies: new Float64Array(1 << 16), count: 0, statuses: {}, errors: 0, durationS: 0 }
  const add = (status: number, ms: number) => {
    c.statuses[status] = (c.statuses[status] ?? 0) + 1
    if (c.count === c.latencies.length) {
      const bigger = new Float64Array(c.latencies.length * 2)
      bigger.set(c.latencies)
      c.latencies = bigger
    }
    c.latencies[c.count++] = ms
  }
  return { c, add }
}

async function saturate(spec: LoadSpec): Promise<Collected> {
  const { c, add } = collector()
  const urls = Array.isArray(spec.url) ? spec.url : [spec.url]
  const results = await Promise.all(
    urls.map((url, i) => {
      const connections = Math.floor(spec.connections / urls.length) + (i < spec.connections % urls.length ? 1 : 0)
      const instance = autocannon({ url, connections, duration: spec.durationS, timeout: 30, requests: [spec.request] })
      instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => add(status, ms))
      instance.on('reqError', () => c.errors++)
      return instance
    }),
  )
  for (const result of results) c.errors += result.timeouts
  c.durationS = Math.max(...results.map((r) => r.duration))
  return c
}

async function pace(spec: LoadSpec & { rate: number }): Promise<Collected> {
  const { c, add } = collector()
  const urls = (Array.isArray(spec.url) ? spec.url : [spec.url]).map((u) => new URL(u))
  const agents = urls.map(() => new Agent({ keepAlive: true, maxSockets: Math.max(1, Math.floor(spec.connections / urls.length)) }))
  const total = Math.round(spec.rate * spec.durationS)
  const interval = 1000 / spec.rate
  const start = performance.now()
  let sent = 0
  let done = 0
  let finished = false
  // BENCH_TRACE=<file>: each paced request's due time and latency, for looking into a tail.
  const trace: string[] | undefined = process.env.BENCH_TRACE ? [] : undefined
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  await new Promise<void>((resolve) => {
    const send = (due: number) => {
      const sentAt = performance.now()
      const r = spec.request.setupRequest ? spec.request.setupRequest({ ...spec.request }, {}) : spec.request
      const body = r.body === undefined ? undefined : Buffer.from(r.body)
      const target = sent % urls.length
      const base = urls[target]!
      const req = httpRequest(
        {
          agent: agents[target],
          host: base.hostname,
          port: base.port,
          method: r.method ?? 'GET',
          path: r.path ?? '/',
          headers: { ...(r.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          res.on('data', () => {})
          res.on('end', () => {
            if (finished) return
            if (trace) trace.push(`${(due - start).toFixed(1)},${(sentAt - due).toFixed(2)},${(performance.now() - sentAt).toFixed(2)}`)
            add(res.statusCode ?? 0, performance.now() - sentAt)
            if (++done === total) {
              finished = true
              resolve()
            }
          })
          res.on('error', () => {})
        },
      )
      req.on('error', () => {
        if (finished) return
        c.errors++
        if (++done === total) resolve()
      })
      req.end(body)
    }
    // Bounded: a server more than 2 s of requests behind is not keeping up; stop sending then.
    const giveUp = () => {
      if (finished) return
      finished = true
      c.abandoned = total - done
      resolve()
    }
    const tick = () => {
      if (finished) return
      const now = performance.now()
      if (sent - done > spec.rate * 2) return giveUp()
      while (sent < total && start + sent * interval <= now) send(start + sent++ * interval)
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
    }
    tick()
    setTimeout(giveUp, (spec.durationS + 15) * 1000).unref()
  })
  for (const agent of agents) agent.destroy()
  loop.disable()
  c.loadGeneratorLagMs = { p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) }
  if (trace) writeFileSync(process.env.BENCH_TRACE!, `${trace.join('\n')}\n`)
  c.durationS = (performance.now() - start) / 1000
  return c
}

/**
 * Waits until the server has finished what the last run left in flight (autocannon stops with
 * requests outstanding; the server still works them off): until it used under 5 % of a core over
 * 200 ms, for 5 s at most.
 */
export async function settle(serverPids: number[]): Promise<void> {
  const deadline = performance.now() + 5000
  const ticks = () => serverPids.reduce((sum, pid) => sum + (processTicks(pid) ?? 0), 0)
  while (performance.now() < deadline) {
    const a = ticks()
    await new Promise((r) => setTimeout(r, 200))
    if (ticks() - a <= serverPids.length) return
  }
}

export async function runLoad(spec: LoadSpec, server: number | number[], counters?: () => Promise<DbCounters>): Promise<LoadResult> {
  const serverPids = Array.isArray(server) ? server : [server]
  const serverTicksNow = () => serverPids.reduce((sum, pid) => sum + (processTicks(pid) ?? 0), 0)
  await settle(serverPids)
  const dbBefore = counters ? await counters() : undefined
  const pgBefore = postgresTicks()
  const serverBefore = serverTicksNow()
  const selfBefore = process.cpuUsage()
  const machineBefore = machineTicks()
  const started = performance.now()
  const c = spec.rate ? await pace({ ...spec, rate: spec.rate }) : await saturate(spec)
  const elapsedS = (performance.now() - started) / 1000
  const self = process.cpuUsage(selfBefore)
  const serverTicks = serverTicksNow() - serverBefore
  const pgTicks = postgresDelta(pgBefore, postgresTicks())
  const machineAfter = machineTicks()
  const dbAfter = counters ? await counters() : undefined

  const count = c.count
  const sorted = c.latencies.slice(0, count).sort()
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, count)
  const durationS = c.durationS || elapsedS
  const ms = (ticks: number) => (ticks * 1000) / TICKS_PER_SECOND
  const expected = c.statuses[spec.expectStatus] ?? 0
  return {
    requests: count,
    rps: round(count / durationS, 1),
    durationS: round(durationS, 2),
    latencyMs: { mean: round(mean), p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), max: round(sorted[count - 1] ?? 0) },
    unexpected: count - expected,
    errors: c.errors,
    statuses: c.statuses,
    cpuMsPerRequest: {
      server: round(ms(serverTicks) / Math.max(1, count), 3),
      postgres: round(ms(pgTicks) / Math.max(1, count), 3),
      loadGenerator: round((self.user + self.system) / 1000 / Math.max(1, count), 3),
    },
    cpuUtilisation: {
      server: round(ms(serverTicks) / 1000 / elapsedS, 2),
      postgres: round(ms(pgTicks) / 1000 / elapsedS, 2),
      loadGenerator: round((self.user + self.system) / 1e6 / elapsedS, 2),
    },
    ...(c.loadGeneratorLagMs ? { loadGeneratorLagMs: c.loadGeneratorLagMs } : {}),
    ...(c.abandoned ? { abandoned: c.abandoned } : {}),
    otherCores: round(
      Math.max(0, (machineAfter.busy - machineBefore.busy - serverTicks - pgTicks) / TICKS_PER_SECOND - (self.user + self.system) / 1e6) / elapsedS,
      2,
    ),
    ...(dbBefore && dbAfter
      ? {
          db: {
            walSyncsPerRequest: round((dbAfter.walSyncs - dbBefore.walSyncs) / Math.max(1, count), 3),
            walBytesPerRequest: Math.round((dbAfter.walBytes - dbBefore.walBytes) / Math.max(1, count)),
          },
        }
      : {}),
  }
}
