import { serve } from '@hono/node-server'
import pino from 'pino'
import { createApp } from './app.js'
import { buildDeps } from './bootstrap.js'
import { systemClock } from './clock.js'
import { ConfigError, loadConfig } from './config.js'
import { createMetricsApp } from './metrics/metrics-app.js'
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
  if (config.settings.developmentMode) {
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

  const deps = await buildDeps(config, logger, systemClock)
  const app = createApp(deps)
  const stopRetention = scheduleRetention(deps)
  // Notifications to subscribers: delivered from the outbox, and handovers at risk swept for.
  const dispatcher = createDispatcher(deps, { sweep: announceHandoversAtRisk })
  dispatcher.start()
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    logger.info(
      { address: info.address, port: info.port, database: config.database.kind, developmentMode: config.settings.developmentMode },
      'listening',
    )
  })

  const metricsServer = config.metrics
    ? serve({ fetch: createMetricsApp(deps.metrics, config.metrics.token).fetch, port: config.metrics.port, hostname: config.metrics.host }, (info) => {
        logger.info({ address: info.address, port: info.port }, 'metrics listening')
      })
    : undefined

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: the operator does not want to wait.
      logger.warn({ signal }, 'second signal: exiting at once')
      process.exit(1)
    }
    stopping = true
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: finishing in-flight requests')
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting')
      process.exit(1)
    }, config.shutdownGraceMs)
    force.unref()
    stopRetention()
    metricsServer?.close()
    // The dispatcher stops with the server: a delivery in progress finishes (its timeout is short).
    const dispatcherStopped = dispatcher.stop()
    server.close(async () => {
      await dispatcherStopped
      await deps.validator.close()
      await deps.db.destroy()
      logger.info('stopped')
      process.exit(0)
    })
    // Idle keep-alive connections would hold close() open.
    ;(server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

main().catch((err: unknown) => {
  process.stderr.write(`overdracht: failed to start: ${err instanceof Error ? err.message : 'unknown error'}\n`)
  process.exit(1)
})
