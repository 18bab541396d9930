/** The benchmark's written results: the table (Markdown), the query plans, docs/performance.md. */
import { readFileSync, writeFileSync } from 'node:fs'
import type { LoadResult } from './load.js'
import type { IndexShape, ScenarioPlans } from './plans.js'

export interface ScenarioReport extends LoadResult {
  name: string
  label: string
  kind: 'floor' | 'service'
  ratioToAuditedFloor: number | undefined
  /** The paced run for a latency target, when the scenario has one. */
  paced?: LoadResult & { rate: number }
}

export interface SizeReport {
  patients: number
  auditRows: number
  seedSeconds: number
  seedBreakdown: { patients: number; audit: number; vacuum: number }
  bundleBytes: number
  relationBytes: Record<string, number>
  scenarios: ScenarioReport[]
  /** Reads at half their capacity, paced, alone and while uploads arrive at 10 per second. */
  mixed?: MixedReport[]
  plans: ScenarioPlans[]
  indexes: IndexShape[]
  chain: { liveEntries: number; intact: boolean; problem?: string }
}

export interface MixedReport {
  scenario: string
  rate: number
  alone: LoadResult['latencyMs']
  withUploads: LoadResult['latencyMs']
  uploads: { rps: number; p99: number; unexpected: number }
}

export interface BenchReport {
  generatedAt: string
  mode: 'quick' | 'full'
  totalSeconds: number
  machine: {
    cpu: string
    cores: number
    memoryGiB: number
    kernel: string
    node: string
    postgres: string
    postgresSettings: Record<string, string>
    postgresStartedBy: string
  }
  settings: { durationS: number; warmupS: number; connections: number; instances: number; workers?: number; auditPerPatient: number; tokenSample: number }
  sizes: SizeReport[]
}

/** The issue's targets, checked on each size (they are set for 50,000 patients and 5,000,000 audit rows). */
/** Whether the paced run got the rate it asked for (within 3 %): a service that cannot keep up fails. */
const sustained = (p: ScenarioReport['paced']) => p !== undefined && !p.abandoned && p.rps >= p.rate * 0.97 && p.unexpected + p.errors === 0
const fellBehind = (p: NonNullable<ScenarioReport['paced']>) => Boolean(p.abandoned) || p.rps < p.rate * 0.97
const pacedP99 = (s: ScenarioReport) =>
  !s.paced
    ? 'not measured'
    : fellBehind(s.paced)
      ? `${n(s.paced.rate)} req/s asked, fell behind at ${n(Math.round(s.paced.rps))}`
      : `p99 ${s.paced.latencyMs.p99.toFixed(1)} ms at ${n(s.paced.rate)} req/s`

export const TARGETS: { scenario: string; text: string; check: (s: ScenarioReport) => boolean; value: (s: ScenarioReport) => string }[] = [
  { scenario: 'perspective', text: 'throughput ≥ 50 % of the audited floor', check: (s) => (s.ratioToAuditedFloor ?? 0) >= 0.5, value: (s) => pct(s.ratioToAuditedFloor) },
  {
    scenario: 'perspective',
    text: 'p99 < 25 ms at 50 connections, closed loop at saturation',
    check: (s) => s.latencyMs.p99 < 25,
    value: (s) => `p99 ${s.latencyMs.p99.toFixed(1)} ms at ${n(Math.round(s.rps))} req/s`,
  },
  {
    scenario: 'perspective',
    text: 'p99 < 25 ms over 50 connections at 50 % of the audited floor\'s throughput',
    check: (s) => sustained(s.paced) && s.paced!.latencyMs.p99 < 25,
    value: pacedP99,
  },
  { scenario: 'dossier', text: 'throughput ≥ 40 % of the audited floor', check: (s) => (s.ratioToAuditedFloor ?? 0) >= 0.4, value: (s) => pct(s.ratioToAuditedFloor) },
  { scenario: 'upload', text: 'p99 < 60 ms (paced at half its saturated throughput)', check: (s) => sustained(s.paced) && s.paced!.latencyMs.p99 < 60, value: pacedP99 },
  { scenario: 'access-log', text: 'p99 < 20 ms (paced at half its saturated throughput)', check: (s) => sustained(s.paced) && s.paced!.latencyMs.p99 < 20, value: pacedP99 },
]

const n = (v: number) => v.toLocaleString('en')
const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${n(Math.round(bytes / 2 ** 20))} MB`)
const pct = (r: number | undefined) => (r === undefined ? '–' : `${Math.round(r * 100)} %`)

export function renderReport(report: BenchReport): string {
  const m = report.machine
  const lines: string[] = []
  lines.push(
    `Run of ${report.generatedAt.slice(0, 16).replace('T', ' ')} UTC (\`npm run bench\`${report.mode === 'quick' ? ' -- --quick' : ''}), ` +
      `${report.totalSeconds} s in total. Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}, ` +
      `PostgreSQL ${m.postgres} (${Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')}). ` +
      `${report.settings.instances > 1 ? `${report.settings.instances} service instances, the load spread evenly over them; ` : ''}` +
      `${(report.settings.workers ?? 1) > 1 ? `OVERDRACHT_WORKERS=${report.settings.workers} (service processes per instance); ` : ''}` +
      `Service, load generator (autocannon, ${report.settings.connections} connections) and PostgreSQL share the machine. ` +
      `Each scenario: ${report.settings.warmupS} s warm-up, then ${report.settings.durationS} s measured.`,
  )
  lines.push('')
  for (const size of report.sizes) {
    lines.push(`#### ${n(size.patients)} patients, ${n(size.auditRows)} audit rows`)
    lines.push('')
    lines.push(
      `Seeded in ${size.seedSeconds} s; database ${mb(size.relationBytes.database)} (bundle_version ${mb(size.relationBytes.bundle_version)}, ` +
        `audit_event ${mb(size.relationBytes.audit_event)}). Bundle ${n(size.bundleBytes)} bytes. ` +
        `Audit chain after the pre-fill: ${n(size.chain.liveEntries)} entries written by the service, ${size.chain.intact ? 'intact' : `BROKEN (${size.chain.problem})`}.`,
    )
    lines.push('')
    lines.push(
      '| scenario | req/s | vs audited floor | p50 ms | p99 ms | paced: req/s | paced p50 ms | paced p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | WAL flushes/req | WAL KB/req | errors |',
    )
    lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|')
    for (const s of size.scenarios) {
      const p = s.paced
      lines.push(
        `| ${s.label} | ${n(Math.round(s.rps))} | ${pct(s.ratioToAuditedFloor)} | ${s.latencyMs.p50.toFixed(1)} | ${s.latencyMs.p99.toFixed(1)} | ` +
          `${p ? (fellBehind(p) ? `${n(Math.round(p.rps))} of ${n(p.rate)} asked: fell behind` : n(Math.round(p.rps))) : ''} | ` +
          `${p ? p.latencyMs.p50.toFixed(1) : ''} | ${p ? p.latencyMs.p99.toFixed(1) : ''} | ` +
          `${s.cpuMsPerRequest.server.toFixed(2)} | ${s.cpuMsPerRequest.postgres.toFixed(2)} | ` +
          `${s.db ? s.db.walSyncsPerRequest.toFixed(2) : '–'} | ${s.db ? (s.db.walBytesPerRequest / 1024).toFixed(1) : '–'} | ` +
          `${s.unexpected + s.errors + (p ? p.unexpected + p.errors : 0)} |`,
      )
    }
    if (size.mixed?.length) {
      lines.push('| mixed: read at half its capacity | req/s | alone p50 / p99 ms | with uploads p50 / p99 ms | p99 with / alone | uploads/s (p99 ms) |')
      lines.push('|---|--:|--:|--:|--:|--:|')
      for (const m of size.mixed) {
        lines.push(
          `| ${m.scenario} | ${n(m.rate)} | ${m.alone.p50.toFixed(1)} / ${m.alone.p99.toFixed(1)} | ${m.withUploads.p50.toFixed(1)} / ${m.withUploads.p99.toFixed(1)} | ` +
            `${(m.withUploads.p99 / Math.max(0.1, m.alone.p99)).toFixed(2)} | ${m.uploads.rps} (${m.uploads.p99.toFixed(0)})${m.uploads.unexpected ? `, ${m.uploads.unexpected} unexpected` : ''} |`,
        )
      }
      lines.push('')
    }
    const busy = size.scenarios.filter((s) => s.otherCores > 0.1)
    if (busy.length > 0) {
      lines.push(
        `Other work on the machine during: ${busy.map((s) => `${s.name} (${s.otherCores} cores)`).join(', ')}; those figures are disturbed.`,
        '',
      )
    }
    lines.push('')
  }
  lines.push('#### Targets')
  lines.push('')
  lines.push(`| target | ${report.sizes.map((s) => `${n(s.patients)} patients`).join(' | ')} |`)
  lines.push(`|---|${report.sizes.map(() => '---').join('|')}|`)
  for (const t of TARGETS) {
    const cells = report.sizes.map((size) => {
      const s = size.scenarios.find((x) => x.name === t.scenario)
      if (!s) return '–'
      return `${t.check(s) ? 'met' : '**not met**'} (${t.value(s)})`
    })
    lines.push(`| ${t.scenario}: ${t.text} | ${cells.join(' | ')} |`)
  }
  lines.push('')
  return lines.join('\n')
}

export function renderPlans(report: BenchReport): string {
  const lines: string[] = ['# Query plans per scenario', '']
  lines.push(
    'Every statement one request of each scenario runs, captured from the real app (`bench/plans.ts`), after the load. ' +
      'SELECTs: `EXPLAIN (ANALYZE, BUFFERS)` (rolled back); writes: `EXPLAIN`. Skipped: transaction control, the chain lock, nextval.',
    '',
  )
  // Growth: each statement's shared buffers and execution time at each size, side by side.
  lines.push('## Growth with the data set', '')
  lines.push(
    'Shared buffers touched (hit + read) and execution time of each SELECT, per size. A statement whose buffers stay flat as the ' +
      'patients grow tenfold descends a B-tree one level deeper at most (see the index tables below); one that grows with the ' +
      'data would show here.',
    '',
  )
  const scenarioNames = [...new Set(report.sizes.flatMap((s) => s.plans.map((p) => p.scenario)))]
  for (const scenario of scenarioNames) {
    lines.push(`### ${scenario}`, '')
    lines.push(`| statement | ${report.sizes.map((s) => `buffers at ${n(s.patients)}`).join(' | ')} | ${report.sizes.map((s) => `ms at ${n(s.patients)}`).join(' | ')} |`)
    lines.push(`|---|${report.sizes.map(() => '--:').join('|')}|${report.sizes.map(() => '--:').join('|')}|`)
    const first = report.sizes[0]?.plans.find((p) => p.scenario === scenario)
    for (const st of first?.statements ?? []) {
      if (st.explained !== 'analyze') continue
      const at = report.sizes.map((size) => size.plans.find((p) => p.scenario === scenario)?.statements.find((x) => x.sql === st.sql))
      lines.push(
        `| \`${st.sql.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 110)}\` | ${at.map((x) => x?.buffers ?? '–').join(' | ')} | ${at
          .map((x) => (x?.executionMs !== undefined ? x.executionMs.toFixed(3) : '–'))
          .join(' | ')} |`,
      )
    }
    lines.push('')
  }
  for (const size of report.sizes) {
    lines.push(`## ${n(size.patients)} patients, ${n(size.auditRows)} audit rows`, '')
    lines.push('| index | table | B-tree levels | size |', '|---|---|--:|--:|')
    for (const i of size.indexes) lines.push(`| ${i.index} | ${i.table} | ${i.height ?? '–'} | ${mb(i.sizeBytes)} |`)
    lines.push('')
    for (const p of size.plans) {
      lines.push(`### ${p.scenario} (HTTP ${p.status})`, '')
      for (const s of p.statements) {
        if (s.explained === 'skipped') {
          lines.push(`- \`${s.sql.replace(/\s+/g, ' ').slice(0, 120)}\` (not explained)`)
          continue
        }
        lines.push(`- \`${s.sql.replace(/\s+/g, ' ').slice(0, 400)}\``)
        lines.push('')
        lines.push('  ```')
        for (const l of s.plan) lines.push(`  ${l}`)
        lines.push('  ```')
      }
      lines.push('')
    }
  }
  return `${lines.join('\n')}\n`
}

const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

/** Replaces the generated part of docs/performance.md; the text around it is written by hand. */
export function updatePerformanceDoc(path: string, table: string) {
  const doc = readFileSync(path, 'utf8')
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  if (a < 0 || b < a) throw new Error(`${path} has no ${START} ... ${END} block`)
  writeFileSync(path, `${doc.slice(0, a + START.length)}\n${table}\n${doc.slice(b)}`)
}
