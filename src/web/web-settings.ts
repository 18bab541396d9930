/** How the web application signs people in; read from the environment by config.ts only. */
export interface WebSettings {
  /** The origin people open (`http://localhost:8080`): redirect URIs and cookies are bound to it. */
  baseUrl: string
  /**
   * The organisation's OpenID provider, or `development`: a real OpenID provider inside the
   * service under `/dev-idp`, with the fictional people of the development register.
   */
  oidc: { issuer: string; clientId: string; clientSecret: string; scope: string } | 'development'
  /** A session unused this long ends. */
  sessionIdleMs: number
  /** A session ends this long after sign-in, used or not. */
  sessionAbsoluteMs: number
}

export const DEFAULT_SESSION_IDLE_MS = 30 * 60_000
export const DEFAULT_SESSION_ABSOLUTE_MS = 12 * 3600_000
