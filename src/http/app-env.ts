import type { Logger } from 'pino'
import type { Principal } from './principal.js'

export type AppEnv = {
  Variables: {
    requestId: string
    principal: Principal
    logger: Logger
  }
}
