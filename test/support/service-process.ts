import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './private-postgres.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The service as its own process (`node --import tsx src/server.ts`), on `databaseUrl`, in
 * development mode with a data folder of its own (keys, BIG register); ready when /readyz answers.
 */
export async function startServiceProcess(databaseUrl: string, extraEnv: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'overdracht-service-'))
  const port = await freePort()
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of Object.keys(env)) if (name.startsWith('OVERDRACHT_') || name === 'DATABASE_URL' || name === 'TEST_DATABASE_URL') delete env[name]
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      OVERDRACHT_DEVELOPMENT_MODE: '1',
      OVERDRACHT_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      OVERDRACHT_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  let outputBytes = 0
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString())
    outputBytes += chunk.length
    while (output.length > 1 && outputBytes > 2_000_000) outputBytes -= output.shift()!.length
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const service = {
    base: `http://127.0.0.1:${port}`,
    dataDir,
    child,
    /** What the process wrote (the last 2 MB). */
    output: () => output.join(''),
    log: (chars = 6_000) => output.join('').slice(-chars),
    alive: () => child.exitCode === null && child.signalCode === null,
    exited: () =>
      new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.exitCode !== null || child.signalCode !== null
          ? resolve({ code: child.exitCode, signal: child.signalCode })
          : child.once('exit', (code, signal) => resolve({ code, signal })),
      ),
    async dispose() {
      if (service.alive()) {
        child.kill('SIGKILL')
        await service.exited()
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  for (let i = 0; ; i++) {
    if (!service.alive()) throw new Error(`the service exited at start-up (${child.exitCode ?? child.signalCode}):\n${service.log()}`)
    if (await fetch(`${service.base}/readyz`).then((r) => r.ok, () => false)) break
    if (i > 480) throw new Error(`the service did not answer /readyz within 120 s:\n${service.log()}`)
    await sleep(250)
  }
  return service
}
export type ServiceProcess = Awaited<ReturnType<typeof startServiceProcess>>
