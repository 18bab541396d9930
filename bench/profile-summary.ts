/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile`): self time by
 * function and by package, heaviest first.   npx tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
const file = process.argv[2]
if (!file) {
  process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top]\n')
  process.exit(2)
}
const top = Number(process.argv[3] ?? 40)
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] }
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
const total = [...self.values()].reduce((a, b) => a + b, 0)
const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (m) return m[1]!
  if (url.includes('/src/')) return `src/${url.split('/src/')[1]}`
  if (url.startsWith('node:')) return url
  return url === '' ? '(native)' : url.replace(/^file:\/\//, '')
}
const fn = new Map<string, number>()
const pkg = new Map<string, number>()
for (const [id, t] of self) {
  const n = byId.get(id)!
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
  fn.set(key, (fn.get(key) ?? 0) + t)
  const p = where(n.callFrame.url).replace(/^src\/.*/, 'src (the service)').replace(/^node:.*/, 'node: (core modules)')
  pkg.set(p, (pkg.get(p) ?? 0) + t)
}
const show = (m: Map<string, number>, k: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, t]) => `${((t / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n')
process.stdout.write(`total ${(total / 1e6).toFixed(1)} s sampled\n\nby package:\n${show(pkg, 20)}\n\nby function (self time):\n${show(fn, top)}\n`)
