/**
 * A private, throwaway PostgreSQL server for the benchmark, started the way CI starts one
 * (.ci/run): initdb into a temporary folder, trust authentication, listening on 127.0.0.1 only, on
 * a port of its own. As root, the server runs as the `postgres` user.
 *
 *   npx tsx bench/local-postgres.ts start   # prints the URL to use as BENCH_DATABASE_URL
 *   npx tsx bench/local-postgres.ts stop
 *
 * `npm run bench` does this by itself when BENCH_DATABASE_URL is not set, and stops the server at
 * the end. Settings beyond the defaults (SERVER_SETTINGS) are the usual first changes to a stock
 * configuration; durability is untouched: fsync and synchronous_commit stay on.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const DEFAULT_PORT = Number(process.env.BENCH_PG_PORT || 55434)
export const DEFAULT_DIR = process.env.BENCH_PG_DIR || join(tmpdir(), 'overdracht-bench-pg')

/** Beyond initdb's defaults. fsync, synchronous_commit and full_page_writes keep their defaults (on). */
export const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  max_connections: '100',
  // The stock 128 MB is meant for tiny machines; a quarter of RAM is the usual advice, 1 GB is modest here.
  shared_buffers: '1GB',
  // Seeding writes gigabytes: let checkpoints be spread, not forced by WAL volume mid-measurement.
  max_wal_size: '8GB',
  checkpoint_timeout: '30min',
}

export function findPostgresBin(): string {
  if (process.env.BENCH_PG_BIN) return process.env.BENCH_PG_BIN
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(root, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  if (which.status === 0 && which.stdout.trim()) return join(which.stdout.trim(), '..')
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found. Install them (Debian: apt-get install postgresql) or set BENCH_PG_BIN, ' +
      'or point BENCH_DATABASE_URL at a PostgreSQL server you started yourself.',
  )
}

const isRoot = () => process.getuid?.() === 0

function asPostgres(bin: string, args: string[], options: { quiet?: boolean } = {}) {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args]
  execFileSync(cmd, argv, { stdio: options.quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'] })
}

export interface LocalPostgres {
  url: string
  bin: string
  dataDir: string
  stop(): void
}

/** Makes a fresh cluster in `dir` (any old one there is removed) and starts it on `port`. */
export function startLocalPostgres(dir = DEFAULT_DIR, port = DEFAULT_PORT): LocalPostgres {
  const bin = findPostgresBin()
  const dataDir = join(dir, 'data')
  if (existsSync(join(dataDir, 'postmaster.pid'))) {
    try {
      asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', 'stop'], { quiet: true })
    } catch {
      // not running
    }
  }
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  let user = process.env.USER || 'postgres'
  if (isRoot()) {
    try {
      execFileSync('id', ['postgres'], { stdio: 'ignore' })
    } catch {
      execFileSync('useradd', ['--system', '--home-dir', '/var/lib/postgresql', '--shell', '/bin/bash', 'postgres'])
    }
    execFileSync('chown', ['postgres', dir])
    user = 'postgres'
  } else {
    user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim()
  }
  asPostgres(join(bin, 'initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '--encoding=UTF8', '--locale=C'], { quiet: true })
  // BENCH_PG_SETTINGS="name=value name=value": extra settings, for experiments.
  const extra = Object.fromEntries((process.env.BENCH_PG_SETTINGS ?? '').split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string]))
  const options = Object.entries({ ...SERVER_SETTINGS, ...extra, port: String(port), unix_socket_directories: dir })
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')
  asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'], { quiet: true })
  return {
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    bin,
    dataDir,
    stop() {
      try {
        asPostgres(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { quiet: true })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))
if (invokedDirectly) {
  const command = process.argv[2]
  if (command === 'start') {
    const pg = startLocalPostgres()
    process.stdout.write(`PostgreSQL running in ${DEFAULT_DIR}\nexport BENCH_DATABASE_URL=${pg.url}\n`)
  } else if (command === 'stop') {
    const bin = findPostgresBin()
    asPostgres(join(bin, 'pg_ctl'), ['-D', join(DEFAULT_DIR, 'data'), '-m', 'fast', '-w', 'stop'], { quiet: true })
    rmSync(DEFAULT_DIR, { recursive: true, force: true })
    process.stdout.write('stopped\n')
  } else {
    process.stderr.write('usage: npx tsx bench/local-postgres.ts start|stop\n')
    process.exit(2)
  }
}
