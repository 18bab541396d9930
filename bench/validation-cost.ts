/**
 * CPU cost of validating one ~30 KB handover bundle in-process (not through the worker pool):
 * the bench's own bundle (bench/dataset.ts), checked with `checkFhirText` exactly as an upload is.
 *
 *   npx tsx bench/validation-cost.ts [--iterations=200] [--rounds=5]
 *
 * Prints the CPU milliseconds (user + system, process.cpuUsage) per bundle: the median over the
 * rounds, each round the mean over its iterations, after a warm-up.
 */
import { bundleTemplates, bundleText, templateFor } from './dataset.js'
import { checkFhirText, warmUpFhirValidation } from '../src/fhir/validation.js'

const arg = (name: string, fallback: number) => {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`))
  return found ? Number(found.slice(name.length + 3)) : fallback
}
const iterations = arg('iterations', 200)
const rounds = arg('rounds', 5)
const warmup = arg('warmup', 100)

const templates = bundleTemplates(new Date('2026-01-01T00:00:00Z'))
// A few patients' bundles, so that no cache keyed on the exact text can help.
const texts = Array.from({ length: 16 }, (_, n) => bundleText(templateFor(templates, n), n))
const expected = { resourceType: 'Bundle', maxEntries: 1000 }

warmUpFhirValidation()
for (let i = 0; i < warmup; i++) {
  const result = checkFhirText(texts[i % texts.length]!, expected)
  if (!result.ok) throw new Error(`the bench bundle does not validate: ${JSON.stringify(result.issues.slice(0, 3))}`)
}

const perBundle: number[] = []
for (let r = 0; r < rounds; r++) {
  const start = process.cpuUsage()
  for (let i = 0; i < iterations; i++) checkFhirText(texts[i % texts.length]!, expected)
  const used = process.cpuUsage(start)
  perBundle.push((used.user + used.system) / 1000 / iterations)
}
const sorted = [...perBundle].sort((a, b) => a - b)
const median = sorted[Math.floor(sorted.length / 2)]!
const bytes = Buffer.byteLength(texts[0]!)
const entries = (JSON.parse(texts[0]!) as { entry: unknown[] }).entry.length
console.log(`bundle: ${bytes} bytes, ${entries} entries`)
console.log(`rounds (CPU ms per bundle): ${perBundle.map((x) => x.toFixed(2)).join(' ')}`)
console.log(`median: ${median.toFixed(2)} CPU ms per bundle (${iterations} iterations x ${rounds} rounds)`)
