import { generateKeyPairSync, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { HttpBindings } from '@hono/node-server'
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response'
import { Hono, type Context } from 'hono'
import type Provider from 'oidc-provider'
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider'
import { escapeHtml } from '../audit/access-log-page.js'
import { DEV_PEOPLE, findDevPerson } from './dev-people.js'
import { messagesFor, PAGE_CSP, renderPage, type WebEnv } from './web-kit.js'
import { Layout } from './layout.js'

export const DEV_IDP_PATH = '/dev-idp'
export const DEV_CLIENT_ID = 'overdracht-web'
export const DEV_SCOPE = 'openid profile overdracht'

export interface DevIdp {
  issuer: string
  clientId: string
  clientSecret: string
  routes: Hono<WebEnv>
}

type NodeEnv = { incoming: IncomingMessage & { originalUrl?: string }; outgoing: ServerResponse }
const nodeOf = (env: unknown): NodeEnv => {
  const bindings = env as Partial<HttpBindings> | undefined
  if (!bindings?.incoming || !bindings.outgoing) throw new Error('The development identity provider needs the Node.js HTTP server')
  return bindings as unknown as NodeEnv
}

/**
 * The provider wrote the answer itself. Middleware that adds a header after the handler makes Hono
 * build a new Response, which @hono/node-server would then try to write a second time; what
 * comes after the provider's answer is dropped.
 */
function alreadySent(outgoing: ServerResponse): Response {
  outgoing.writeHead = (() => outgoing) as never
  outgoing.write = (() => true) as never
  outgoing.end = (() => outgoing) as never
  return RESPONSE_ALREADY_SENT
}

/** A minimal page in the application's style for oidc-provider's own pages (logout, errors). */
function providerPage(lang: 'nl' | 'en', title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/assets/app.css"></head><body>` +
    `<main id="main"><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`
}

const langOf = (ctx: KoaContextWithOIDC): 'nl' | 'en' => (/(?:^|;\s*)overdracht-lang=en\b/.test(ctx.get('cookie')) ? 'en' : 'nl')

/**
 * Development mode's OpenID provider: a real `oidc-provider` under /dev-idp, inside the service,
 * whose login page lists the fictional people. Keys and secrets live in memory for the process;
 * a restart signs nobody out of the application (its sessions are in the database).
 */
export function createDevIdp(baseUrl: string): DevIdp {
  const issuer = `${baseUrl}${DEV_IDP_PATH}`
  const clientSecret = randomBytes(32).toString('base64url')
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `dev-idp-${randomBytes(4).toString('hex')}`, alg: 'ES256', use: 'sig' }

  const configuration: Configuration = {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [`${baseUrl}/auth/callback`],
        post_logout_redirect_uris: [`${baseUrl}/signed-out`],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [jwk as never] },
    enabledJWA: { idTokenSigningAlgValues: ['ES256'] } as never,
    scopes: ['openid', 'profile', 'overdracht'],
    claims: { openid: ['sub'], profile: ['name'], overdracht: ['org', 'org_type', 'role', 'big'] },
    // The claims go into the ID token, as the API's callers' tokens carry them.
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => {
      const person = findDevPerson(sub)
      if (!person) return undefined
      return {
        accountId: sub,
        claims: async () => {
          const { describe: _describe, ...claims } = person
          return claims
        },
      }
    },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    interactions: { url: async (_ctx, interaction) => `${DEV_IDP_PATH}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const t = messagesFor(langOf(ctx))
          ctx.type = 'html'
          ctx.body = providerPage(
            t.lang as 'nl',
            t.devLogoutTitle,
            `${form}<p><button type="submit" form="op.logoutForm" name="logout" value="yes">${escapeHtml(t.devLogoutYes)}</button> ` +
              `<button type="submit" class="secondary" form="op.logoutForm">${escapeHtml(t.devLogoutNo)}</button></p>`,
          )
        },
        postLogoutSuccessSource: async (ctx) => {
          const t = messagesFor(langOf(ctx))
          ctx.type = 'html'
          ctx.body = providerPage(t.lang as 'nl', t.devLoggedOutTitle, `<p><a href="/">${escapeHtml(t.backHome)}</a></p>`)
        },
      },
    },
    renderError: async (ctx) => {
      const t = messagesFor(langOf(ctx))
      ctx.type = 'html'
      ctx.body = providerPage(t.lang as 'nl', t.signInFailedTitle, `<p>${escapeHtml(t.signInFailedText)}</p><p><a href="/">${escapeHtml(t.backHome)}</a></p>`)
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 12 * 3600,
      Grant: 12 * 3600,
    },
  }
  // Loaded only in development mode: a deployment never imports the provider.
  const ready = import('oidc-provider').then(({ default: Provider }) => {
    const provider = new Provider(issuer, configuration)
    return { provider, callback: provider.callback() }
  })
  const routes = new Hono<WebEnv>()

  /** The sign-in under way, or undefined when the browser holds none (a stale tab, another host name). */
  const interaction = async (provider: Provider, incoming: IncomingMessage, outgoing: ServerResponse) => {
    try {
      return await provider.interactionDetails(incoming, outgoing)
    } catch (err) {
      if ((err as Error)?.name === 'SessionNotFound') return undefined
      throw err
    }
  }
  const signInLost = (c: Context<WebEnv>) => {
    const t = c.var.t
    return renderPage(
      c,
      <Layout t={t} title={t.signInFailedTitle} path={c.req.path} developmentMode={true}>
        <h1>{t.signInFailedTitle}</h1>
        <p>{t.signInFailedText}</p>
        <p>
          <a href="/">{t.backHome}</a>
        </p>
      </Layout>,
      400,
    )
  }

  // The login page: one button per fictional person.
  routes.get('/interaction/:uid', async (c) => {
    const { incoming, outgoing } = nodeOf(c.env)
    const { provider } = await ready
    const details = await interaction(provider, incoming, outgoing)
    if (!details) return signInLost(c)
    if (details.uid !== c.req.param('uid')) return c.notFound()
    const t = c.var.t
    return renderPage(
      c,
      <Layout t={t} title={t.devIdpTitle} path={c.req.path} developmentMode={true}>
        <h1>{t.devIdpTitle}</h1>
        <p>{t.devIdpIntro}</p>
        <ul class="people">
          {DEV_PEOPLE.map((person) => (
            <li>
              <strong>{person.name}</strong>
              <span class="hint">{person.describe[t.lang as 'nl' | 'en']}</span>
              <form method="post" action={`${DEV_IDP_PATH}/interaction/${details.uid}/login`}>
                <input type="hidden" name="sub" value={person.sub} />
                <button type="submit" aria-label={`${t.devIdpSignInAs} ${person.name}, ${person.describe[t.lang as 'nl' | 'en']}`}>
                  {t.devIdpSignInAs} {person.name}
                </button>
              </form>
            </li>
          ))}
        </ul>
      </Layout>,
    )
  })

  // One click: login and consent together (the interaction id, bound to the provider's cookie, is the form's token).
  routes.post('/interaction/:uid/login', async (c) => {
    const { incoming, outgoing } = nodeOf(c.env)
    const { provider } = await ready
    const details = await interaction(provider, incoming, outgoing)
    if (!details) return signInLost(c)
    if (details.uid !== c.req.param('uid')) return c.notFound()
    const form = await c.req.parseBody()
    const person = typeof form.sub === 'string' ? findDevPerson(form.sub) : undefined
    if (!person) return c.notFound()
    const grant = new provider.Grant({ accountId: person.sub, clientId: String(details.params.client_id) })
    grant.addOIDCScope(String(details.params.scope ?? 'openid'))
    const grantId = await grant.save()
    await provider.interactionFinished(incoming, outgoing, { login: { accountId: person.sub }, consent: { grantId } }, { mergeWithLastSubmission: false })
    return alreadySent(outgoing)
  })

  // Everything else is oidc-provider's own: discovery, authorization, token, JWKS, end session.
  routes.all('/*', async (c) => {
    const { incoming, outgoing } = nodeOf(c.env)
    const original = incoming.url ?? '/'
    incoming.originalUrl = original
    incoming.url = original.slice(DEV_IDP_PATH.length) || '/'
    outgoing.setHeader('Content-Security-Policy', PAGE_CSP)
    outgoing.setHeader('Cache-Control', 'no-store')
    outgoing.setHeader('X-Content-Type-Options', 'nosniff')
    const { callback } = await ready
    await callback(incoming, outgoing)
    return alreadySent(outgoing)
  })

  return { issuer, clientId: DEV_CLIENT_ID, clientSecret, routes }
}
