import { descendantsOf } from './processes.js'
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

/*
 * A PostgreSQL cluster of one test's own: made with initdb in a temporary folder, on a free port
 * of 127.0.0.1, stopped and started by the test with pg_ctl. For tests that must take the server
 * away (a restart under load); the shared server of TEST_DATABASE_URL is never touched.
 *
 * As root (CI), the binaries run as the `postgres` OS user, the way .ci/run starts its server:
 * PostgreSQL refuses to run as root.
 */

const run = promisify(execFile)

/** The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl, or undefined. */
export function findPostgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const bin = join(root, v, 'bin')
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin
  }
  return undefined
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0

/** Whether a private cluster can be made here: the binaries, and as root an OS user `postgres`. */
export function privateClusterUnavailableReason(): string | undefined {
  if (!findPostgresBinaries()) return 'no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin'
  if (isRoot()) {
    try {
      if (!readFileSync('/etc/passwd', 'utf8').split('\n').some((l) => l.startsWith('postgres:'))) return 'running as root and there is no OS user postgres'
    } catch {
      return 'running as root and /etc/passwd cannot be read'
    }
  }
  return undefined
}

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })

export interface PrivateCluster {
  /** postgres://<user>@127.0.0.1:<port>/postgres */
  url: string
  port: number
  /** `pg_ctl stop -w -m <mode>`: returns once the server has stopped. */
  stop(mode: 'smart' | 'fast' | 'immediate'): Promise<void>
  /** `pg_ctl start -w`: returns once the server accepts connections. */
  start(): Promise<void>
  /**
   * SIGSTOP to the postmaster and every backend: the server keeps its sockets open and answers
   * nothing, like a host that hangs or a network that drops packets. `thaw` sends SIGCONT.
   */
  freeze(): number[]
  thaw(): void
  /** The server's own log, for a failure message. */
  log(): string
  /** Stops the server (immediate) and removes its folder. */
  destroy(): Promise<void>
}

export async function startPrivateCluster(options: { settings?: Record<string, string> } = {}): Promise<PrivateCluster> {
  const bin = findPostgresBinaries()
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql/*/bin')
  const root = isRoot()
  const dir = mkdtempSync(join(tmpdir(), 'overdracht-private-pg-'))
  if (root) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()))
  const user = root ? 'postgres' : userInfo().username
  const data = join(dir, 'data')
  const logFile = join(dir, 'server.log')
  const port = await freePort()
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    // Off: nothing here must survive an OS crash. (synchronous_commit stays on: an answer given
    // after COMMIT must survive `pg_ctl stop -m immediate`, as on a real server.)
    fsync: 'off',
    max_connections: '100',
    ...options.settings,
  }
  const serverOptions = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
  const asPostgres = (cmd: string, args: string[], timeout = 60_000) =>
    root ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeout }) : run(join(bin, cmd), args, { timeout })

  await asPostgres('initdb', ['-D', data, '-U', user, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'])
  const start = async () => {
    await asPostgres('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', serverOptions, 'start'])
  }
  await start()
  let destroyed = false
  let frozen: number[] = []
  const thaw = () => {
    for (const pid of frozen.slice().reverse()) {
      try {
        process.kill(pid, 'SIGCONT')
      } catch {
        /* gone */
      }
    }
    frozen = []
  }
  return {
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    port,
    async stop(mode) {
      await asPostgres('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', mode, 'stop'])
    },
    start,
    freeze() {
      const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
      frozen = [postmaster, ...descendantsOf(postmaster)]
      for (const pid of frozen) process.kill(pid, 'SIGSTOP')
      return frozen
    },
    thaw,
    log() {
      try {
        return readFileSync(logFile, 'utf8')
      } catch {
        return '(no server log)'
      }
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      if (frozen.length > 0) thaw()
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

