import cluster, { type Worker } from 'node:cluster'
import { serve } from '@hono/node-server'
import { AggregatorRegistry } from 'prom-client'
import type { Logger } from 'pino'
import type { Config } from './config.js'
import { createMetricsApp } from './metrics/metrics-app.js'

/**
 * Several service processes on one port (OVERDRACHT_WORKERS), with node:cluster: the primary
 * accepts connections and hands them to the processes in turn; each process has its own database
 * pool and validation threads. The primary serves no requests. It starts the processes, starts a
 * new one when one dies, serves the metrics of all of them, and on SIGTERM or SIGINT asks each to
 * finish its requests and stop.
 */

export const SHUTDOWN_MESSAGE = 'overdracht:shutdown'
const INDEX_ENV = 'OVERDRACHT_WORKER_INDEX'
/** A process that dies sooner than this after its start is restarted only after a pause. */
const QUICK_DEATH_MS = 5_000
const RESTART_PAUSE_MS = 1_000

/** This process's place among the service processes, or undefined when it runs alone. */
export function workerIndex(): number | undefined {
  if (cluster.isPrimary) return undefined
  const n = Number(process.env[INDEX_ENV])
  return Number.isInteger(n) && n >= 0 ? n : undefined
}

export function runPrimary(config: Config, logger: Logger): void {
  const byIndex = new Map<number, { worker: Worker; startedAt: number; listening: boolean }>()
  let stopping = false

  const start = (index: number) => {
    const worker = cluster.fork({ [INDEX_ENV]: String(index) })
    const entry = { worker, startedAt: Date.now(), listening: false }
    byIndex.set(index, entry)
    worker.on('listening', () => {
      entry.listening = true
    })
    worker.on('exit', (code, signal) => {
      const entry = byIndex.get(index)
      if (entry?.worker !== worker) return
      byIndex.delete(index)
      if (stopping) {
        if (byIndex.size === 0) finish()
        return
      }
      // A process that dies is replaced; the others serve meanwhile.
      logger.error({ worker: index, code, signal }, 'service process ended; starting another')
      const quick = Date.now() - entry.startedAt < QUICK_DEATH_MS
      setTimeout(() => {
        if (!stopping) start(index)
      }, quick ? RESTART_PAUSE_MS : 0).unref()
    })
  }
  for (let i = 0; i < config.workers; i++) start(i)
  logger.info({ workers: config.workers, port: config.port }, 'service processes starting')

  // The metrics of every process, summed (counters, histograms) or per process (gauges), on one listener.
  const aggregator = new AggregatorRegistry()
  const metricsServer = config.metrics
    ? serve(
        {
          fetch: createMetricsApp({ metrics: () => aggregator.clusterMetrics(), contentType: aggregator.contentType }, config.metrics.token).fetch,
          port: config.metrics.port,
          hostname: config.metrics.host,
        },
        (info) => logger.info({ address: info.address, port: info.port }, 'metrics listening'),
      )
    : undefined

  let exitCode = 0
  const finish = () => {
    metricsServer?.close()
    logger.info({ exitCode }, 'stopped')
    process.exit(exitCode)
  }
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once')
      for (const { worker } of byIndex.values()) worker.process.kill('SIGKILL')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: each process finishes its requests')
    for (const { worker, listening } of byIndex.values()) {
      if (!listening) {
        // Still starting: no request of its own yet, and no handler for the message either.
        worker.process.kill('SIGTERM')
        continue
      }
      worker.on('exit', (code) => {
        if (code !== 0) exitCode = 1
      })
      worker.send(SHUTDOWN_MESSAGE)
    }
    // Each process has its own grace timer; this one covers a process that hangs before it starts one.
    setTimeout(() => {
      logger.error('shutdown took too long; exiting')
      for (const { worker } of byIndex.values()) worker.process.kill('SIGKILL')
      process.exit(1)
    }, config.shutdownGraceMs + 2_000).unref()
    if (byIndex.size === 0) finish()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}
