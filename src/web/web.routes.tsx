import type { Bundle, Consent, Task } from '@medplum/fhirtypes'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie } from 'hono/cookie'
import { auditContext } from '../access/enforce.js'
import { renderAccessLogHtml } from '../audit/access-log-page.js'
import { rowToAccessLogEntry } from '../audit/access-log.js'
import { parseDateParams, readPatientLog } from '../audit/audit-query.service.js'
import { tokenSettings, verifyConsentToken } from '../consent/consent-token.js'
import { closeEmergencyReview, listEmergencyReviews } from '../consent/emergency.service.js'
import type { Deps } from '../deps.js'
import { OutcomeError } from '../fhir/outcome.js'
import { SYSTEM } from '../fhir/systems.js'
import { authoriseUploadAttempt, readDossier, readDossierHistory, uploadBundle } from '../handover/handover.service.js'
import { checkHandoverBundle } from '../handover/intake.js'
import { issueTokenForRecipient, recordConsent, searchConsents, withdrawConsent } from '../consent/consent.service.js'
import { createShortCode, recordFailedShortCode, redeemShortCode } from '../consent/short-code.js'
import { ConsentForm, ConsentList, DossierHistoryView, EmergencyForm, consentFromForm, FORM_CODE, FORM_LANGUAGES, FORM_TYPES, HANDOVER_RECIPIENTS, PERSPECTIVE_RECIPIENTS, problemsPerEntry, RecipientTokenForm, TOKEN_RECIPIENT_TYPES, TokenHandout, UploadForm } from './caregiver.js'
import { accessPointOf, claimsToPrincipal } from '../http/caller-auth.js'
import { searchPatients } from '../patient/patient.service.js'
import { readPerspective } from '../perspective/perspective.service.js'
import { changeTask, createTask, readTask, searchTaskList } from '../tasks/task.service.js'
import { BIG_NUMBER, phoneHandoverTask, TaskPage } from './task-page.js'
import { createDevIdp, DEV_SCOPE } from './dev-idp.js'
import { dossierView } from './dossier-view.js'
import { Layout } from './layout.js'
import { createOidcClient, newNonce, newPkceVerifier, newState } from './oidc-client.js'
import {
  AccessLogForm,
  AnnounceDepartureForm,
  DossierPage,
  OpenDossierForm,
  PatientSearchForm,
  PerspectivePage,
  ReviewQueue,
  TaskTable,
  taskRows,
  Problem,
  type FormProblem,
} from './pages.js'
import { perspectiveView } from './perspective-view.js'
import { createSubscription, deleteSubscription, searchSubscriptions } from '../notifications/subscription.service.js'
import { subscriptionFromForm, SubscriptionsPage, type SubscriptionTasks } from './subscriptions-page.js'
import { cookieSecurity, csrfTokenMatches, endSession, findSession, startPendingSignIn, startSession, takePending, type WebSession } from './session.js'
import { APP_CSS } from './styles.js'
import { SCAN_JS } from './scan-script.js'
import { dayInAmsterdam, endOfDay, messagesFor, pageCsp, renderPage, type Lang, type WebEnv } from './web-kit.js'
import type { WebSettings } from './web-settings.js'

const LANG_COOKIE = 'overdracht-lang'
const FORM_BYTES = 64 * 1024
/** The paths the web application answers; its middleware runs on these only, never on the API. */
const PAGE_PATHS = ['/', '/auth/*', '/signed-out', '/app/*', '/dev-idp/*', '/assets/*'] as const

type C = Context<WebEnv>

/**
 * The web application: server-rendered pages over the same services as the API. A page reads the
 * session's principal and calls one service function, which gathers, decides (`decide()` through
 * `withDecision`) and audits; a page decides nothing itself.
 */

/** The tasks a list page shows: the first page of the inbox or outbox, nearest planned date first. */
const TASKS_PER_PAGE = 100

export function webRoutes(deps: Deps, web: WebSettings): Hono<WebEnv> {
  const app = new Hono<WebEnv>()
  const dev = web.oidc === 'development' ? createDevIdp(web.baseUrl) : undefined
  const oidc = createOidcClient(
    web.oidc === 'development'
      ? {
          issuer: dev!.issuer,
          clientId: dev!.clientId,
          clientSecret: dev!.clientSecret,
          scope: DEV_SCOPE,
          idTokenAlg: 'ES256',
          redirectUri: `${web.baseUrl}/auth/callback`,
          postLogoutRedirectUri: `${web.baseUrl}/signed-out`,
        }
      : { ...web.oidc, redirectUri: `${web.baseUrl}/auth/callback`, postLogoutRedirectUri: `${web.baseUrl}/signed-out` },
  )
  const baseOrigin = new URL(web.baseUrl).origin
  const csp = pageCsp(oidc.issuerOrigin === baseOrigin ? undefined : oidc.issuerOrigin)
  const developmentMode = deps.settings.developmentMode || web.oidc === 'development'

  // Headers of every page: strict CSP, nothing kept by browsers or proxies, never framed.
  const pageHeaders: MiddlewareHandler<WebEnv> = async (c, next) => {
    await next()
    if (!c.res.headers.has('Content-Security-Policy')) c.res.headers.set('Content-Security-Policy', csp)
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store')
    c.res.headers.set('X-Frame-Options', 'DENY')
    c.res.headers.set('Referrer-Policy', 'same-origin')
  }
  // Dutch unless English is asked for (?lang=en, kept in a cookie).
  const language: MiddlewareHandler<WebEnv> = async (c, next) => {
    const asked = c.req.query('lang')
    let lang: Lang = getCookie(c, LANG_COOKIE) === 'en' ? 'en' : 'nl'
    if (asked === 'en' || asked === 'nl') {
      lang = asked
      setCookie(c, LANG_COOKIE, lang, { path: '/', sameSite: 'Lax', httpOnly: true, secure: cookieSecurity(web).secure, maxAge: 365 * 24 * 3600 })
    }
    c.set('lang', lang)
    c.set('t', messagesFor(lang))
    await next()
  }
  const sessionLoader: MiddlewareHandler<WebEnv> = async (c, next) => {
    const session = await findSession(deps, web, c)
    c.set('session', session)
    if (session) c.set('principal', { ...session.principal, accessPoint: accessPointOf(c) })
    await next()
  }
  for (const path of PAGE_PATHS) app.use(path, pageHeaders, language)
  for (const path of ['/', '/auth/*', '/signed-out', '/app/*'] as const) app.use(path, sessionLoader)

  // Every form POST: a live session, this origin, and the session's CSRF token.
  const formGuard: MiddlewareHandler<WebEnv> = async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const session = c.var.session
    if (!session) return sessionEnded(c)
    const origin = c.req.header('origin')
    if (origin !== undefined && origin !== baseOrigin) return formExpired(c)
    const form = await c.req.parseBody()
    if (!csrfTokenMatches(session, form._csrf)) return formExpired(c)
    await next()
  }
  const limit = bodyLimit({ maxSize: FORM_BYTES, onError: (c) => c.text('Payload too large', 413) })
  const uploadLimit = bodyLimit({ maxSize: deps.settings.maxBodyBytes, onError: (c) => c.text('Payload too large', 413) })
  // Forms hold codes and numbers; only the scanned consent form and the dossier file are large.
  const UPLOADS = new Set(['/app/consent', '/app/bundle'])
  app.use('/app/*', (c, next) => (UPLOADS.has(c.req.path) ? uploadLimit(c, next) : limit(c, next)), formGuard)
  app.use('/auth/sign-out', limit, formGuard)
  // Pages behind sign-in.
  app.use('/app/*', async (c, next) => (c.var.session ? next() : sessionEnded(c)))

  const page = (c: C, title: string, body: unknown, status: Parameters<typeof renderPage>[2] = 200) =>
    renderPage(
      c,
      <Layout t={c.var.t} title={title} session={c.var.session} path={c.req.method === 'GET' ? c.req.url.slice(c.req.url.indexOf(c.req.path)) : '/'} developmentMode={developmentMode}>
        {body as never}
      </Layout>,
      status,
    )
  const message = (c: C, title: string, text: string, status: Parameters<typeof renderPage>[2], link?: { href: string; text: string }) =>
    page(
      c,
      title,
      <>
        <h1>{title}</h1>
        <p>{text}</p>
        <p>
          <a href={link?.href ?? '/'}>{link?.text ?? c.var.t.backHome}</a>
        </p>
      </>,
      status,
    )
  function sessionEnded(c: C) {
    const t = c.var.t
    return message(c, t.sessionEndedTitle, t.sessionEndedText, 401 as never, { href: '/auth/sign-in', text: t.signInButton })
  }
  function formExpired(c: C) {
    const t = c.var.t
    return message(c, t.formExpiredTitle, t.formExpiredText, 403)
  }
  const ctxOf = (c: C) => auditContext(c.var.principal, c.var.requestId)

  app.onError((err, c) => {
    const t = (c.var as { t?: ReturnType<typeof messagesFor> }).t ?? messagesFor('nl')
    if (!c.var.t) c.set('t', t)
    if (err instanceof OutcomeError) {
      if (err.status === 401) return sessionEnded(c as C)
      if (err.status === 404) return message(c as C, t.notFoundTitle, t.notFoundText, 404)
      if (err.status === 403) return message(c as C, t.refusedTitle, t.refusedText, 403)
      if (err.status < 500) return message(c as C, t.invalidInput, t.errorText, 400)
    }
    // The error's name only: its message could carry what the request was about.
    deps.logger.error({ requestId: c.var.requestId, error: err instanceof Error ? err.name : 'unknown' }, 'web page failed')
    return message(c as C, t.errorTitle, t.errorText, err instanceof OutcomeError && err.status === 503 ? 503 : 500)
  })

  app.get('/assets/app.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600')
    c.header('Content-Type', 'text/css; charset=utf-8')
    return c.body(APP_CSS)
  })

  app.get('/assets/scan.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600')
    c.header('Content-Type', 'text/javascript; charset=utf-8')
    return c.body(SCAN_JS)
  })

  if (dev) app.route('/dev-idp', dev.routes)

  // --- sign-in and sign-out ---------------------------------------------------------------------
  app.get('/auth/sign-in', async (c) => {
    const pending = { state: newState(), nonce: newNonce(), codeVerifier: newPkceVerifier() }
    let url: URL
    try {
      url = await oidc.authorizationUrl(pending)
    } catch {
      deps.logger.warn({ requestId: c.var.requestId }, 'identity provider discovery failed')
      return message(c, c.var.t.signInFailedTitle, c.var.t.signInFailedText, 503)
    }
    await startPendingSignIn(deps, web, c, pending)
    return c.redirect(url.href, 303)
  })

  app.get('/auth/callback', async (c) => {
    const t = c.var.t
    const pending = await takePending(deps, web, c)
    if (!pending) return message(c, t.signInFailedTitle, t.signInFailedText, 400, { href: '/auth/sign-in', text: t.signInAgain })
    const current = new URL(c.req.url)
    const callbackUrl = new URL(`${current.pathname}${current.search}`, web.baseUrl)
    let claims: Record<string, unknown>
    let idToken: string | undefined
    try {
      ;({ claims, idToken } = await oidc.finish(callbackUrl, pending))
    } catch {
      deps.logger.warn({ requestId: c.var.requestId }, 'sign-in callback refused')
      return message(c, t.signInFailedTitle, t.signInFailedText, 400, { href: '/auth/sign-in', text: t.signInAgain })
    }
    let principal
    try {
      principal = claimsToPrincipal(claims as never, accessPointOf(c))
    } catch {
      deps.logger.warn({ requestId: c.var.requestId }, 'sign-in claims refused')
      return message(c, t.signInFailedTitle, t.signInFailedText, 403, { href: '/auth/sign-in', text: t.signInAgain })
    }
    await startSession(deps, web, c, principal, idToken)
    return c.redirect('/', 303)
  })

  app.post('/auth/sign-out', async (c) => {
    const session = c.var.session!
    await endSession(deps, web, c, session)
    let url: URL | undefined
    try {
      url = await oidc.endSessionUrl(session.idToken)
    } catch {
      url = undefined
    }
    return c.redirect(url?.href ?? '/signed-out', 303)
  })

  app.get('/signed-out', (c) => {
    const t = c.var.t
    return message(c, t.signedOutTitle, t.signedOutText, 200, { href: '/auth/sign-in', text: t.signInAgain })
  })

  // --- the home page of each role ---------------------------------------------------------------
  async function home(
    c: C,
    extra: { problem?: FormProblem; refused?: boolean; limited?: boolean; status?: 200 | 400 | 403 | 404 | 422 | 429; done?: unknown; uploadProblems?: { entry: string; text: string }[] } = {},
  ) {
    const t = c.var.t
    const session = c.var.session as WebSession
    const principal = c.var.principal
    const ctx = ctxOf(c)
    const done = c.req.query('done')
    const notice =
      done === 'phone-handover' ? t.phoneRecorded : done === 'announced' ? t.announced : done === 'review-closed' ? t.reviewClosed : done === 'transfer' ? t.transferAnnounced : done === 'withdrawn' ? t.withdrawn : undefined
    // A list the rules refuse (a caregiver the BIG register does not confirm) is shown as refused, not as an error page.
    let refusedList = false
    const rowsOf = async (q: { owner: string } | { requester: string; atRisk?: boolean }) => {
      try {
        return taskRows((await searchTaskList(deps, ctx, { ...q, count: TASKS_PER_PAGE, summaryCount: false, countTotal: false })).resources)
      } catch (err) {
        if (!(err instanceof OutcomeError) || err.status >= 500 || err.status === 401) throw err
        refusedList = true
        return []
      }
    }
    const owned = () => rowsOf({ owner: principal.org })
    const requested = () => rowsOf({ requester: principal.org })
    const Notice = () => (
      <>
        {notice ? <p class="notice" role="status">{notice}</p> : null}
        {refusedList ? <p class="warning" role="alert">{t.refusedText}</p> : null}
      </>
    )
    // The organisation's notification subscriptions; the page's services decide who may manage them.
    const SubscriptionsLink = () => (
      <p>
        <a href="/app/subscriptions">{t.subscriptionsLink}</a>
      </p>
    )

    if (principal.role === 'privacy-officer') {
      let reviews: Awaited<ReturnType<typeof listEmergencyReviews>> = []
      try {
        reviews = await listEmergencyReviews(deps, ctx, 'open')
      } catch (err) {
        if (!(err instanceof OutcomeError) || err.status >= 500) throw err
      }
      return page(
        c,
        t.privacyTitle,
        <>
          <h1>{t.privacyTitle}</h1>
          <ReviewQueue t={t} session={session} reviews={reviews} closed={done === 'review-closed'} />
          <AccessLogForm t={t} />
        </>,
        extra.status,
      )
    }
    if (principal.role === 'caregiver' && principal.orgType === 'medical-escort') {
      return page(
        c,
        t.departuresTitle,
        <>
          <h1>{t.departuresTitle}</h1>
          <p>{t.departuresIntro}</p>
          <TaskTable t={t} caption={t.tasksOwned} rows={await owned()} perspective={true} receipts={false} />
          <Notice />
          <OpenDossierForm t={t} session={session} refused={extra.refused ?? false} limited={extra.limited ?? false} />
          <SubscriptionsLink />
        </>,
        extra.status,
      )
    }
    if (principal.role === 'caregiver') {
      // The three lists at once: each is its own decision, and their audit entries share a group commit.
      const [atRisk, own, asked] = await Promise.all([rowsOf({ requester: principal.org, atRisk: true }), owned(), requested()])
      return page(
        c,
        t.caregiverTitle,
        <>
          <h1>{t.caregiverTitle}</h1>
          <Notice />
          {extra.done}
          <Problem t={t} problem={extra.problem} />
          <PatientSearchForm t={t} />
          {/* A caregiver of a receiving organisation opens the dossier with the code the sender gave. */}
          <OpenDossierForm t={t} session={session} refused={extra.refused ?? false} limited={extra.limited ?? false} />
          <TaskTable t={t} caption={t.atRiskTitle} intro={t.atRiskIntro} rows={atRisk} perspective={false} receipts={true} detail={true} />
          <TaskTable t={t} caption={t.tasksOwned} rows={own} perspective={true} receipts={false} detail={true} />
          <TaskTable t={t} caption={t.tasksRequested} rows={asked} perspective={true} receipts={true} detail={true} />
          <ConsentForm t={t} session={session} vNummer="" versions={formVersions()} languages={formLanguages()} />
          <UploadForm t={t} session={session} {...(extra.uploadProblems ? { problems: extra.uploadProblems } : {})} />
          <SubscriptionsLink />
        </>,
        extra.status,
      )
    }
    // Regievoerder, transport escort, COA case manager: their tasks and the flags.
    const isRegie = principal.role === 'regievoerder'
    const [asked, own] = await Promise.all([isRegie ? requested() : Promise.resolve([]), owned()])
    return page(
      c,
      t.tasksTitle,
      <>
        <h1>{t.tasksTitle}</h1>
        <p>{t.tasksIntro}</p>
        <Notice />
        {isRegie ? <TaskTable t={t} caption={t.tasksRequested} rows={asked} perspective={true} receipts={true} /> : null}
        <TaskTable t={t} caption={t.tasksOwned} rows={own} perspective={true} receipts={false} />
        {isRegie ? <AnnounceDepartureForm t={t} session={session} problem={extra.problem} /> : null}
        <SubscriptionsLink />
      </>,
      extra.status,
    )
  }

  app.get('/', async (c) => {
    if (c.var.session) return home(c)
    const t = c.var.t
    return page(
      c,
      t.signInTitle,
      <>
        <h1>{t.signInTitle}</h1>
        <p>{t.signInIntro}</p>
        {web.oidc === 'development' ? <p class="notice">{t.signInDevNote}</p> : null}
        <p>
          <a class="button" href="/auth/sign-in">
            {t.signInButton}
          </a>
        </p>
      </>,
    )
  })

  // --- regievoerder, escorts, case managers -----------------------------------------------------
  app.get('/app/tasks/:id/perspective', async (c) => {
    const ctx = ctxOf(c)
    const { resource } = await readTask(deps, ctx, c.req.param('id'))
    const task = resource as Task
    const vNummer = task.for?.identifier?.system === SYSTEM.vNummer ? task.for.identifier.value : undefined
    if (!vNummer) throw new OutcomeError(404, [])
    const parameters = await readPerspective(deps, ctx, { identifier: `${SYSTEM.vNummer}|${vNummer}` })
    const view = perspectiveView(parameters, c.var.lang)
    return page(c, c.var.t.perspectiveTitle, <PerspectivePage t={c.var.t} view={view} vNummer={vNummer} />)
  })

  app.post('/app/transfers', (c) => announce(c, 'transfer'))
  app.post('/app/departures', (c) => announce(c, 'departure'))
  async function announce(c: C, code: 'departure' | 'transfer') {
    const t = c.var.t
    const form = await c.req.parseBody()
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '')
    const vNummer = field('vnummer')
    const owner = field('owner')
    const date = field('date')
    const recipients = field('recipients').split(',').map((s) => s.trim()).filter(Boolean)
    const details: string[] = []
    if (!vNummer) details.push(t.announceVNummer)
    if (!/^\d{8}$/.test(owner)) details.push(`${t.announceOwner}: ${t.fieldHint8}`)
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) details.push(t.announceDate)
    if (recipients.some((r) => !/^\d{8}$/.test(r))) details.push(`${t.announceRecipients}: ${t.fieldHint8}`)
    if (details.length) return home(c, { problem: { message: t.invalidInput, details }, status: 422 })
    const task: Task = {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      code: { coding: [{ system: SYSTEM.taskCode, code }] },
      for: { identifier: { system: SYSTEM.vNummer, value: vNummer } },
      requester: { identifier: { system: SYSTEM.ura, value: c.var.principal.org } },
      owner: { identifier: { system: SYSTEM.ura, value: owner } },
      ...(recipients.length ? { restriction: { recipient: recipients.map((value) => ({ identifier: { system: SYSTEM.ura, value } })) } } : {}),
      executionPeriod: { start: date },
    }
    try {
      await createTask(deps, ctxOf(c), task)
    } catch (err) {
      if (err instanceof OutcomeError && err.status >= 400 && err.status < 500 && err.status !== 401) {
        // The service's own words (about codes, dates and organisations), never a bundle's.
        const issues = err.outcome.issue.map((i) => i.diagnostics).filter((d): d is string => typeof d === 'string')
        return home(c, { problem: { message: err.status === 403 || err.status === 404 ? t.refusedText : t.invalidInput, details: issues }, status: 422 })
      }
      throw err
    }
    return c.redirect(code === 'transfer' ? '/?done=transfer' : '/?done=announced', 303)
  }

  // --- caregivers: a task, and the phone handover when the patient refused -----------------------
  const taskPage = async (c: C, id: string, problem?: FormProblem, status: 200 | 409 | 422 = 200) => {
    const { resource, version } = await readTask(deps, ctxOf(c), id)
    const task = resource as Task
    const principal = c.var.principal
    return page(
      c,
      c.var.t.taskTitle,
      <TaskPage t={c.var.t} session={c.var.session!} task={task} version={version} ownBig={principal.big} problem={problem} canRecord={principal.role === 'caregiver'} />,
      status,
    )
  }
  app.get('/app/tasks/:id', (c) => taskPage(c, c.req.param('id')))

  // Completes the task through changeTask, as a PUT of the API would: the same rules and refusals.
  app.post('/app/tasks/:id/phone-handover', async (c) => {
    const t = c.var.t
    const id = c.req.param('id')
    const form = await c.req.parseBody()
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).replace(/\s+/g, '') : '')
    const own = field('big-own')
    const other = field('big-other')
    const version = field('version')
    const details: string[] = []
    if (!BIG_NUMBER.test(own)) details.push(`${t.phoneOwnBig}: ${t.phoneBigHint}`)
    else if (own !== c.var.principal.big) details.push(`${t.phoneOwnBig}: ${t.phoneOwnBigIsYours}`)
    if (!BIG_NUMBER.test(other)) details.push(`${t.phoneOtherBig}: ${t.phoneBigHint}`)
    if (!details.length && own === other) details.push(t.phoneBigsDiffer)
    if (!/^\d{1,9}$/.test(version)) details.push(t.phoneChanged)
    if (details.length) return taskPage(c, id, { message: t.invalidInput, details }, 422)
    const { resource } = await readTask(deps, ctxOf(c), id)
    try {
      await changeTask(deps, ctxOf(c), id, phoneHandoverTask(resource as Task, [own, other]), `W/"${version}"`)
    } catch (err) {
      if (err instanceof OutcomeError && err.status === 412) return taskPage(c, id, { message: t.phoneChanged, details: [] }, 409)
      if (err instanceof OutcomeError && (err.status === 409 || err.status === 422)) {
        // The service's own words about statuses and outputs, never a bundle's.
        const issues = err.outcome.issue.map((i) => i.diagnostics).filter((d): d is string => typeof d === 'string')
        return taskPage(c, id, { message: t.invalidInput, details: issues }, 422)
      }
      throw err
    }
    return c.redirect('/?done=phone-handover', 303)
  })

  // --- escort nurse: the dossier ----------------------------------------------------------------
  app.post('/app/dossier', async (c) => {
    const form = await c.req.parseBody()
    const typed = typeof form.token === 'string' ? form.token.trim() : ''
    let token = typed.replace(/\s+/g, '')
    if (!token) return home(c, { refused: true, status: 400 })
    // A short code (no dots, unlike a token) stands for the token it was made for. An unknown one is
    // passed on as typed: readDossier refuses it as an invalid token and audits the refusal.
    const person = `${c.var.principal.org}|${c.var.principal.sub}`
    let byCode = false
    if (!token.includes('.') && token.length <= 32) {
      const redeemed = await redeemShortCode(deps, person, typed)
      if (redeemed.kind === 'limited') return home(c, { limited: true, status: 429 })
      if (redeemed.kind === 'token') (token = redeemed.token), (byCode = true)
    }
    // The token names its patient; readDossier verifies it again and decides.
    const fact = await verifyConsentToken(token, deps.consentKeys, tokenSettings(deps), deps.clock)
    const patientId = fact.valid ? fact.patientId : 'unknown'
    let stored
    try {
      stored = await readDossier(deps, ctxOf(c), { patientId }, { consentToken: token, emergencyReason: undefined })
    } catch (err) {
      if (err instanceof OutcomeError && err.status < 500) {
        if (byCode) await recordFailedShortCode(deps, person)
        return home(c, { refused: true, status: err.status === 404 ? 404 : 403 })
      }
      throw err
    }
    const view = dossierView(JSON.parse(stored.text) as Bundle)
    return page(c, c.var.t.dossierTitle, <DossierPage t={c.var.t} view={view} version={stored.version} />)
  })

  // --- caregivers: patient search ---------------------------------------------------------------
  app.get('/app/patients', async (c) => {
    const t = c.var.t
    const kind = c.req.query('kind') === 'bsn' ? SYSTEM.bsn : SYSTEM.vNummer
    const value = (c.req.query('value') ?? '').trim()
    if (!value) return c.redirect('/', 303)
    const patients = await searchPatients(deps, ctxOf(c), [`${kind}|${value}`])
    return page(
      c,
      t.caregiverTitle,
      <>
        <h1>{t.caregiverTitle}</h1>
        {patients.length ? (
          <ul>
            {patients.map((p) => (
              <li>
                <a href={`/app/patients/${encodeURIComponent(p.id!)}?v=${encodeURIComponent(p.identifier?.find((i) => i.system === SYSTEM.vNummer)?.value ?? '')}`}>
                  {t.openPatient}: {p.identifier?.map((i) => `${i.system === SYSTEM.bsn ? t.bsn : t.vNummer} ${i.value}`).join(', ')}
                </a>{' '}
                — {t.patientId}: {p.id}
              </li>
            ))}
          </ul>
        ) : null}
        <PatientSearchForm t={t} none={patients.length === 0} />
      </>,
    )
  })

  // --- caregivers: the patient, consent, dossier, transfer ---------------------------------------
  // The current version of the form; a form in another version or language is the API's to record.
  const formVersions = () => {
    const current = deps.settings.consentForms.current(FORM_CODE)
    return current ? [{ version: current, current: true }] : []
  }
  const formLanguages = () => {
    const version = deps.settings.consentForms.current(FORM_CODE)
    return version ? FORM_LANGUAGES.filter((language) => deps.settings.consentForms.check({ code: FORM_CODE, version, language }) === undefined) : []
  }

  app.get('/app/patients/:id', async (c) => {
    const t = c.var.t
    const session = c.var.session!
    const patientId = c.req.param('id')
    const consents = await searchConsents(deps, ctxOf(c), patientId)
    // The V-nummer as the service holds it (on the patient's consents), else as the search found it.
    const held = consents
      .map((consent) => consent.patient?.identifier)
      .find((i) => i?.system === SYSTEM.vNummer)?.value
    const vNummer = held ?? (c.req.query('v') ?? '').slice(0, 40)
    // The newest consent in force is the one a named token is made under.
    const activeConsent = consents.filter((consent) => consent.status === 'active').sort((a, b) => (b.dateTime ?? '').localeCompare(a.dateTime ?? ''))[0]
    // The patient's tasks in the caller's inbox and outbox: searchTaskList decides, as for the lists.
    const ofPatient = async (q: { owner: string } | { requester: string }) =>
      (await searchTaskList(deps, ctxOf(c), { ...q, patientId, count: TASKS_PER_PAGE, summaryCount: false, countTotal: false })).resources
    // Once the consents are permitted (the custodian's view), the rest at once.
    const [history, owned, requested] = await Promise.all([
      readDossierHistory(deps, ctxOf(c), patientId),
      ofPatient({ owner: c.var.principal.org }),
      ofPatient({ requester: c.var.principal.org }),
    ])
    const both = [...owned, ...requested]
    const tasks = taskRows([...new Map(both.map((task) => [task.id, task])).values()])
    return page(
      c,
      t.patientPageTitle,
      <>
        <h1>
          {t.patientPageTitle} {vNummer}
        </h1>
        <p>
          {t.patientId}: {patientId}
        </p>
        <ConsentList t={t} session={session} consents={consents} isCurrent={(code, version) => deps.settings.consentForms.isCurrent(code, version)} />
        {activeConsent?.id ? <RecipientTokenForm t={t} session={session} consentId={activeConsent.id} /> : null}
        <DossierHistoryView t={t} history={history} />
        <TaskTable t={t} caption={t.patientTasksTitle} rows={tasks} perspective={true} receipts={true} detail={true} />
        <ConsentForm t={t} session={session} vNummer={vNummer} versions={formVersions()} languages={formLanguages()} />
        <UploadForm t={t} session={session} />
        <AnnounceDepartureForm t={t} session={session} transfer={{ vNummer }} />
        <EmergencyForm t={t} session={session} patientId={patientId} />
      </>,
    )
  })

  app.post('/app/consents/:id/withdraw', async (c) => {
    await withdrawConsent(deps, ctxOf(c), c.req.param('id'), { resourceType: 'Consent', status: 'inactive' } as Consent, undefined)
    return c.redirect('/?done=withdrawn', 303)
  })

  // $token for a named recipient: issueTokenForRecipient decides (a caregiver of the custodian, the
  // consent in force); the page only turns the form into its Parameters.
  app.post('/app/consents/:id/token', async (c) => {
    const t = c.var.t
    const id = c.req.param('id')
    const form = await c.req.parseBody()
    const field = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).replace(/\s+/g, '') : '')
    const values = { 'org-type': field('org-type'), ura: field('ura'), big: field('big'), until: field('until') }
    const chosen = [
      ...((TOKEN_RECIPIENT_TYPES as readonly string[]).includes(values['org-type']) ? [{ system: SYSTEM.organizationType, value: values['org-type'] }] : []),
      ...(/^\d{8}$/.test(values.ura) ? [{ system: SYSTEM.ura, value: values.ura }] : []),
      ...(BIG_NUMBER.test(values.big) ? [{ system: SYSTEM.big, value: values.big }] : []),
    ]
    const filled = [values['org-type'], values.ura, values.big].filter(Boolean).length
    const now = deps.clock.now()
    const inRange = values.until >= dayInAmsterdam(now) && values.until <= dayInAmsterdam(now, 30)
    const until = /^\d{4}-\d{2}-\d{2}$/.test(values.until) && inRange ? endOfDay(values.until) : undefined
    const details: string[] = []
    if (chosen.length !== 1 || filled !== 1) details.push(t.recipientChooseOne)
    if (values.until && !until) details.push(`${t.recipientUntil}: ${t.recipientUntilHint}`)
    const again = (problem: FormProblem) => recipientTokenPage(c, id, problem, values)
    if (details.length) return again({ message: t.invalidInput, details })
    const recipient = chosen[0]!
    let minted
    try {
      minted = await issueTokenForRecipient(deps, ctxOf(c), id, {
        resourceType: 'Parameters',
        parameter: [{ name: 'recipient', valueIdentifier: recipient }, ...(until ? [{ name: 'period', valuePeriod: { end: until } }] : [])],
      })
    } catch (err) {
      // The service's own words about periods and consents in force, never a bundle's.
      if (err instanceof OutcomeError && (err.status === 400 || err.status === 409)) {
        return again({ message: t.invalidInput, details: err.outcome.issue.map((i) => i.diagnostics).filter((d): d is string => typeof d === 'string') })
      }
      throw err
    }
    const onlyFor =
      recipient.system === SYSTEM.organizationType ? (t.orgType[recipient.value] ?? recipient.value) : `${recipient.system === SYSTEM.ura ? t.recipientUra : t.recipientBig} ${recipient.value}`
    return page(
      c,
      t.recipientTokenTitle,
      <>
        <h1>{t.recipientTokenTitle}</h1>
        {await TokenHandout({ t, ...minted, shortCode: await createShortCode(deps, minted), onlyFor, lang: c.var.lang })}
        <p class="no-print">
          <a href="/">{t.backHome}</a>
        </p>
      </>,
    )
  })
  async function recipientTokenPage(c: C, id: string, problem: FormProblem, values: Record<string, string>) {
    const t = c.var.t
    return page(
      c,
      t.recipientTokenTitle,
      <>
        <h1>{t.recipientTokenTitle}</h1>
        <Problem t={t} problem={problem} />
        <RecipientTokenForm t={t} session={c.var.session!} consentId={id} values={values} />
        <p class="no-print">
          <a href="/">{t.backHome}</a>
        </p>
      </>,
      422,
    )
  }

  // P2: emergency access with its reason; readDossier decides, opens the window and the review.
  app.post('/app/patients/:id/emergency', async (c) => {
    const form = await c.req.parseBody()
    const reason = typeof form.reason === 'string' ? form.reason.trim().slice(0, 2000) : ''
    let stored
    try {
      stored = await readDossier(deps, ctxOf(c), { patientId: c.req.param('id') }, { consentToken: undefined, emergencyReason: reason })
    } catch (err) {
      if (err instanceof OutcomeError && err.status === 400) return message(c, c.var.t.invalidInput, c.var.t.emergencyReasonHint, 422)
      throw err
    }
    const view = dossierView(JSON.parse(stored.text) as Bundle)
    return page(c, c.var.t.dossierTitle, <DossierPage t={c.var.t} view={view} version={stored.version} />)
  })

  const MAGIC: Record<string, (b: Buffer) => boolean> = {
    'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
    'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8,
    'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  }

  app.post('/app/consent', async (c) => {
    const t = c.var.t
    const form = await c.req.parseBody({ all: true })
    const one = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '')
    const many = (name: string) => ([] as unknown[]).concat(form[name] ?? []).filter((v): v is string => typeof v === 'string')
    const vNummer = one('vnummer')
    const refused = one('decision') === 'refused'
    const version = one('version')
    const language = one('language')
    const handover = many('handover').filter((v) => (HANDOVER_RECIPIENTS as readonly string[]).includes(v))
    const perspective = many('perspective').filter((v) => (PERSPECTIVE_RECIPIENTS as readonly string[]).includes(v))
    const file = form.scan instanceof File && form.scan.size > 0 ? form.scan : undefined
    const details: string[] = []
    if (!vNummer) details.push(t.vNummer)
    if (!formVersions().some((v) => v.version === version)) details.push(t.consentFormVersion)
    if (!formLanguages().includes(language)) details.push(t.consentFormLanguage)
    let scan: { contentType: string; data: Buffer } | undefined
    if (file) {
      const data = Buffer.from(await file.arrayBuffer())
      const type = (FORM_TYPES as readonly string[]).includes(file.type) ? file.type : undefined
      if (!type || !MAGIC[type]!(data)) details.push(`${t.consentScan}: ${t.consentScanHint}`)
      else scan = { contentType: type, data }
    } else if (!refused) details.push(`${t.consentScan}: ${t.consentScanHint}`)
    if (!refused && handover.length + perspective.length === 0) details.push(t.consentHandoverTo)
    if (details.length) return home(c, { problem: { message: t.invalidInput, details }, status: 422 })
    const consent = consentFromForm({ vNummer, org: c.var.principal.org, refused, formVersion: version, formLanguage: language, handover, perspective, ...(scan ? { scan } : {}), now: deps.clock.now() })
    let recorded
    try {
      const checked = await deps.validator.check(JSON.stringify(consent), { resourceType: 'Consent' })
      if (!checked.ok) throw new OutcomeError(checked.status, checked.issues)
      recorded = await recordConsent(deps, ctxOf(c), consent)
    } catch (err) {
      if (err instanceof OutcomeError && err.status >= 400 && err.status < 500 && err.status !== 401) {
        const issues = err.outcome.issue.map((i) => i.diagnostics).filter((d): d is string => typeof d === 'string')
        return home(c, { problem: { message: err.status === 403 ? t.refusedText : t.invalidInput, details: issues }, status: 422 })
      }
      throw err
    }
    return page(
      c,
      refused ? t.refusalRecorded : t.consentRecorded,
      <>
        <h1>{refused ? t.consentRefused : t.consentRecorded}</h1>
        <p class="notice" role="status">
          {refused ? t.refusalRecorded : t.consentRecorded}
        </p>
        {recorded.token ? await TokenHandout({ t, ...recorded.token, shortCode: await createShortCode(deps, recorded.token), lang: c.var.lang }) : null}
        <p class="no-print">
          <a href="/">{t.backHome}</a>
        </p>
      </>,
    )
  })

  app.post('/app/bundle', async (c) => {
    const t = c.var.t
    const ctx = ctxOf(c)
    // Refused by role and organisation type before the file is read, as the API does.
    await authoriseUploadAttempt(deps, ctx)
    const form = await c.req.parseBody()
    const file = form.file instanceof File ? form.file : undefined
    if (!file || file.size === 0) return home(c, { uploadProblems: [{ entry: t.wholeFile, text: t.uploadHint }], status: 422 })
    const text = await file.text()
    let stored
    try {
      const checked = await deps.validator.check(text, { resourceType: 'Bundle', maxEntries: deps.settings.maxBundleEntries })
      if (!checked.ok) throw new OutcomeError(checked.status, checked.issues)
      const bundle = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Bundle
      const subject = checkHandoverBundle(bundle)
      if ('issues' in subject) throw new OutcomeError(422, subject.issues)
      stored = await uploadBundle(deps, ctx, bundle, subject)
    } catch (err) {
      if (err instanceof OutcomeError && err.status >= 400 && err.status < 500 && err.status !== 401) {
        let types: (string | undefined)[] = []
        try {
          types = ((JSON.parse(text) as Bundle).entry ?? []).map((e) => (typeof e?.resource?.resourceType === 'string' ? e.resource.resourceType : undefined))
        } catch {
          types = []
        }
        return home(c, { uploadProblems: problemsPerEntry(t, err.outcome.issue, types), status: 422 })
      }
      throw err
    }
    return home(c, { done: <p class="notice" role="status">{`${t.uploaded} ${stored.version}.`}</p> })
  })

  // --- notifications: the organisation's subscriptions, through the API's services --------------
  const subscriptionsPage = async (c: C, extra: { problem?: FormProblem; notice?: string; endpoint?: string; tasks?: SubscriptionTasks; status?: number } = {}) => {
    const subscriptions = await searchSubscriptions(deps, ctxOf(c))
    const { status, ...rest } = extra
    return page(c, c.var.t.subscriptionsTitle, <SubscriptionsPage t={c.var.t} session={c.var.session!} subscriptions={subscriptions} {...rest} />, (status ?? 200) as never)
  }
  app.get('/app/subscriptions', (c) => {
    const done = c.req.query('done')
    const notice = done === 'added' ? c.var.t.subscriptionAdded : done === 'deleted' ? c.var.t.subscriptionDeleted : undefined
    return subscriptionsPage(c, notice ? { notice } : {})
  })

  app.post('/app/subscriptions', async (c) => {
    const t = c.var.t
    const form = await c.req.parseBody()
    const endpoint = typeof form.endpoint === 'string' ? form.endpoint.trim().slice(0, 4096) : ''
    const tasks: SubscriptionTasks = form.tasks === 'outbox' ? 'outbox' : 'inbox'
    try {
      await createSubscription(deps, ctxOf(c), subscriptionFromForm(c.var.principal.org, endpoint, tasks))
    } catch (err) {
      if (err instanceof OutcomeError && err.status >= 400 && err.status < 500 && err.status !== 401) {
        // The service's own words (the endpoint guard's reason, the limit), with the API's status.
        const issues = err.outcome.issue.map((i) => i.diagnostics).filter((d): d is string => typeof d === 'string')
        const problem = { message: `${err.status === 403 ? t.refusedText : t.subscriptionRefused} (HTTP ${err.status})`, details: err.status === 403 ? [] : issues }
        return subscriptionsPage(c, { problem, endpoint, tasks, status: err.status })
      }
      throw err
    }
    return c.redirect('/app/subscriptions?done=added', 303)
  })

  app.post('/app/subscriptions/:id/delete', async (c) => {
    await deleteSubscription(deps, ctxOf(c), c.req.param('id'))
    return c.redirect('/app/subscriptions?done=deleted', 303)
  })

  // --- privacy officer --------------------------------------------------------------------------
  app.post('/app/reviews/:id/close', async (c) => {
    const form = await c.req.parseBody()
    const conclusion = typeof form.conclusion === 'string' ? form.conclusion : ''
    const note = typeof form.note === 'string' && form.note.trim() ? form.note.trim() : undefined
    await closeEmergencyReview(deps, ctxOf(c), c.req.param('id'), conclusion, note)
    return c.redirect('/?done=review-closed', 303)
  })

  app.get('/app/access-log', async (c) => {
    const patientId = (c.req.query('patient') ?? '').trim()
    if (!patientId) return c.redirect('/', 303)
    // The audit search by patient and period: the same log, for the days asked (Europe/Amsterdam).
    const day = (name: string) => (/^\d{4}-\d{2}-\d{2}$/.test(c.req.query(name) ?? '') ? c.req.query(name)! : undefined)
    const from = day('from')
    const to = day('to')
    const period = parseDateParams([...(from ? [`ge${from}`] : []), ...(to ? [`le${to}`] : [])])
    const rows = await readPatientLog(deps, ctxOf(c), patientId, period, 'access-log')
    // The printable page is self-contained (its own inline style sheet), as served to the API.
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
    return c.html(
      renderAccessLogHtml(rows.map(rowToAccessLogEntry), {
        lang: c.var.lang,
        patientId,
        generatedAt: deps.clock.now(),
        ...(period.from ? { from: period.from } : {}),
        ...(period.to ? { to: period.to } : {}),
      }),
    )
  })

  return app
}
