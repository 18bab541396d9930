import type { Child } from 'hono/jsx'
import type { Messages } from './messages.nl.js'
import type { WebSession } from './session.js'

export interface LayoutProps {
  t: Messages
  title: string
  session?: WebSession | undefined
  /** The current path and query, for the language switch. */
  path: string
  developmentMode: boolean
  children?: Child
}

/** The language switch keeps the page: the same path with lang= set. */
function switchHref(path: string, lang: string): string {
  const url = new URL(path, 'http://x')
  url.searchParams.set('lang', lang)
  return `${url.pathname}${url.search}`
}

/** Every page: skip link, banner with the person and sign-out, main landmark, footer. */
export function Layout({ t, title, session, path, developmentMode, children }: LayoutProps) {
  return (
    <html lang={t.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{`${title} · ${t.appName}`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
      </head>
      <body>
        <a class="skip-link" href="#main">
          {t.skipLink}
        </a>
        {developmentMode ? <p class="dev-banner">{t.devModeBanner}</p> : null}
        <header class="site">
          <div class="bar">
            <a class="brand" href="/">
              {t.appName}
            </a>
            <nav aria-label={t.mainNav}>
              <ul>
                <li>
                  <a href={switchHref(path, t.otherLanguageCode)} lang={t.otherLanguageCode} hreflang={t.otherLanguageCode}>
                    {t.otherLanguage}
                  </a>
                </li>
                {session ? (
                  <>
                    <li class="who">
                      {t.signedInAs} {session.principal.name ?? session.principal.sub} ({t.role[session.principal.role] ?? session.principal.role},{' '}
                      {t.orgType[session.principal.orgType] ?? session.principal.orgType})
                    </li>
                    <li>
                      <form method="post" action="/auth/sign-out">
                        <input type="hidden" name="_csrf" value={session.csrfToken} />
                        <button type="submit">{t.signOut}</button>
                      </form>
                    </li>
                  </>
                ) : null}
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" tabindex={-1}>
          {children}
        </main>
        <footer class="site">
          <p>{t.footer}</p>
        </footer>
      </body>
    </html>
  )
}

/** The hidden CSRF field every form of a signed-in page carries. */
export const Csrf = ({ session }: { session: WebSession }) => <input type="hidden" name="_csrf" value={session.csrfToken} />
