import * as client from 'openid-client'

/**
 * The relying party: authorization code flow with PKCE, state and nonce, through openid-client
 * (discovery, ID token validation). Discovery happens on first use and is retried after a failure,
 * so the service starts while the identity provider is still coming up.
 */
export interface OidcClient {
  authorizationUrl(p: { state: string; nonce: string; codeVerifier: string }): Promise<URL>
  /** Exchanges the code; returns the ID token's claims and the token itself (for the end-session hint). */
  finish(callbackUrl: URL, p: { state: string; nonce: string; codeVerifier: string }): Promise<{ claims: Record<string, unknown>; idToken: string | undefined }>
  endSessionUrl(idToken: string | undefined): Promise<URL | undefined>
  issuerOrigin: string
}

export interface OidcClientOptions {
  issuer: string
  clientId: string
  clientSecret: string
  scope: string
  redirectUri: string
  postLogoutRedirectUri: string
  idTokenAlg?: string
}

export function createOidcClient(o: OidcClientOptions): OidcClient {
  let configuration: Promise<client.Configuration> | undefined
  const insecure = new URL(o.issuer).protocol === 'http:'
  const get = () =>
    (configuration ??= client
      .discovery(
        new URL(o.issuer),
        o.clientId,
        { client_secret: o.clientSecret, ...(o.idTokenAlg ? { id_token_signed_response_alg: o.idTokenAlg } : {}) },
        client.ClientSecretBasic(o.clientSecret),
        insecure ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      )
      .catch((err: unknown) => {
        configuration = undefined
        throw err
      }))

  return {
    issuerOrigin: new URL(o.issuer).origin,
    async authorizationUrl(p) {
      return client.buildAuthorizationUrl(await get(), {
        redirect_uri: o.redirectUri,
        scope: o.scope,
        state: p.state,
        nonce: p.nonce,
        code_challenge: await client.calculatePKCECodeChallenge(p.codeVerifier),
        code_challenge_method: 'S256',
        // Workstations are shared: every sign-in asks who is there, even when the provider still
        // holds the previous person's session (a sign-out not confirmed at the provider).
        prompt: 'login',
      })
    },
    async finish(callbackUrl, p) {
      const tokens = await client.authorizationCodeGrant(await get(), callbackUrl, {
        pkceCodeVerifier: p.codeVerifier,
        expectedState: p.state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      })
      const claims = tokens.claims()
      if (!claims) throw new Error('no ID token')
      return { claims: claims as Record<string, unknown>, idToken: tokens.id_token }
    },
    async endSessionUrl(idToken) {
      const config = await get()
      if (!config.serverMetadata().end_session_endpoint) return undefined
      return client.buildEndSessionUrl(config, {
        post_logout_redirect_uri: o.postLogoutRedirectUri,
        client_id: o.clientId,
        ...(idToken ? { id_token_hint: idToken } : {}),
      })
    },
  }
}

export const newPkceVerifier = () => client.randomPKCECodeVerifier()
export const newState = () => client.randomState()
export const newNonce = () => client.randomNonce()
