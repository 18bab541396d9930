import cluster from 'node:cluster'
import { serve } from '@hono/node-server'
import pino from 'pino'
import { AggregatorRegistry } from 'prom-client'
import { createApp } from './app.js'
import { buildDeps } from './bootstrap.js'
import { systemClock } from './clock.js'
import { ConfigError, loadConfig } from './config.js'
import { createMetricsApp } from './metrics/metrics-app.js'
import { runPrimary, SHUTDOWN_MESSAGE, workerIndex } from './cluster.js'
import { scheduleRetention } from './retention/retention.service.js'
import { createDispatcher } from './notifications/dispatcher.js'
import { announceHandoversAtRisk } from './tasks/task.service.js'

/** The only reader of the environment: configuration -> dependencies -> app -> HTTP server. */
async function main(): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`overdracht: configuration error: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const logger = pino({ level: config.logLevel, base: { service: 'overdracht' } })
  if (config.settings.developmentMode && cluster.isPrimary) {
    const banner = [
      '',
      '!!! DEVELOPMENT MODE: no identity provider is configured. !!!',
      config.masterKey
        ? `!!! The service made its own issuer key in ${config.dataDir} (the master key is OVERDRACHT_MASTER_KEY).`
        : `!!! The service made its own issuer key and master key in ${config.dataDir}.`,
      '!!! Anyone with that folder can mint caller tokens (npm run token). Never use this with real patient data.',
      '',
    ].join('\n')
    process.stderr.write(`${banner}\n`)
    logger.warn({ dataDir: config.dataDir }, 'development mode: self-made identity provider and master key')
  }

  if (config.workers > 1 && cluster.isPrimary) {
    if (config.settings.developmentMode) logger.warn({ workers: config.workers }, 'several processes: the development sign-in (pages) is off; the API works')
    // Migrations, keys and the development register are made once, before the processes start.
    const prepared = await buildDeps(config, logger, systemClock)
    await prepared.validator.close()
    await prepared.db.destroy()
    return runPrimary(config, logger)
  }
  const worker = workerIndex()
  const log = worker === undefined ? logger : logger.child({ worker })
  const deps = await buildDeps(config, log, systemClock)
  // The primary asks each process for its metrics and adds them up.
  // (Constructing an AggregatorRegistry in a process is what makes it answer the primary.)
  if (worker !== undefined) {
    AggregatorRegistry.setRegistries([deps.metrics.registry])
    new AggregatorRegistry()
  }
  const app = createApp(deps)
  // The background jobs run in one process of an instance (they are correct across instances too).
  const background = worker === undefined || worker === 0
  const stopRetention = background ? scheduleRetention(deps) : () => undefined
  // Notifications to subscribers: delivered from the outbox, and handovers at risk swept for.
  const dispatcher = background ? createDispatcher(deps, { sweep: announceHandoversAtRisk }) : undefined
  dispatcher?.start()
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    log.info(
      { address: info.address, port: info.port, database: config.database.kind, developmentMode: config.settings.developmentMode },
      'listening',
    )
  })

  // With several processes the primary serves the metrics of all of them.
  const metricsServer = config.metrics && worker === undefined
    ? serve({ fetch: createMetricsApp(deps.metrics.registry, config.metrics.token).fetch, port: config.metrics.port, hostname: config.metrics.host }, (info) => {
        log.info({ address: info.address, port: info.port }, 'metrics listening')
      })
    : undefined

  let stopping = false
  const stop = (signal: string) => {
    // The primary asks every process to stop; a process that stops already goes on stopping.
    if (stopping && signal === 'primary') return
    if (stopping) {
      // A second signal: the operator does not want to wait.
      log.warn({ signal }, 'second signal: exiting at once')
      process.exit(1)
    }
    stopping = true
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting')
      process.exit(1)
    }, config.shutdownGraceMs)
    force.unref()
    stopRetention()
    metricsServer?.close()
    // The dispatcher stops with the server: a delivery in progress finishes (its timeout is short).
    const dispatcherStopped = dispatcher?.stop()
    server.close(async () => {
      await dispatcherStopped
      await deps.validator.close()
      await deps.db.destroy()
      log.info('stopped')
      process.exit(0)
    })
    // Idle keep-alive connections would hold close() open.
    ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
  }
  process.on('message', (message) => {
    if (message === SHUTDOWN_MESSAGE) stop('primary')
  })
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  process.stderr.write(`overdracht: failed to start: ${err instanceof Error ? err.message : 'unknown error'}\n`)
  process.exit(1)
})
