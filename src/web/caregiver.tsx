import type { Consent, OperationOutcomeIssue } from '@medplum/fhirtypes'
import QRCode from 'qrcode'
import { raw } from 'hono/html'
import { Csrf } from './layout.js'
import type { Messages } from './messages.nl.js'
import type { WebSession } from './session.js'
import { SYSTEM } from '../fhir/systems.js'
import type { DossierHistory } from '../handover/handover.service.js'
import { formatDateTime, type Lang } from './web-kit.js'

/** The organisation types a consent names as recipients, per purpose (allow-list of the form). */
export const HANDOVER_RECIPIENTS = ['medical-escort', 'dji-medical', 'gza'] as const
export const PERSPECTIVE_RECIPIENTS = ['dtv', 'dvo', 'kmar', 'coa'] as const
/** Scanned forms: PDF or an image. */
export const FORM_TYPES = ['application/pdf', 'image/jpeg', 'image/png'] as const
export const FORM_CODE = 'overdracht-toestemming'
/** The languages the form is offered in on the page, where the catalogue has them. */
export const FORM_LANGUAGES = ['nl', 'en', 'ar', 'ti', 'prs', 'fa', 'ps', 'so', 'fr', 'tr', 'uk', 'ru', 'es']

/** A Consent resource from the form's fields: codes and identifiers only, the scan attached. */
export function consentFromForm(f: {
  vNummer: string
  org: string
  refused: boolean
  formVersion: string
  formLanguage: string
  handover: string[]
  perspective: string[]
  scan?: { contentType: string; data: Buffer }
  now: Date
}): Consent {
  const IRCP = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }
  const actors = (types: string[]) => types.map((value) => ({ role: IRCP, reference: { identifier: { system: SYSTEM.organizationType, value } } }))
  const provisions = [
    ...(f.handover.length ? [{ type: 'permit' as const, actor: actors(f.handover), purpose: [{ system: SYSTEM.consentPurpose, code: 'handover' }] }] : []),
    ...(f.perspective.length ? [{ type: 'permit' as const, actor: actors(f.perspective), purpose: [{ system: SYSTEM.consentPurpose, code: 'action-perspective' }] }] : []),
  ]
  return {
    resourceType: 'Consent',
    status: f.refused ? 'rejected' : 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [
      { coding: [{ system: 'http://loinc.org', code: '59284-0' }] },
      { coding: [{ system: 'https://overdracht.nl/fhir/CodeSystem/consent-form', code: FORM_CODE, version: f.formVersion }] },
    ],
    patient: { identifier: { system: SYSTEM.vNummer, value: f.vNummer } },
    dateTime: f.now.toISOString(),
    policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: f.refused ? 'OPTOUT' : 'OPTIN' }] },
    organization: [{ identifier: { system: SYSTEM.ura, value: f.org } }],
    ...(f.scan
      ? { sourceAttachment: { contentType: f.scan.contentType, data: f.scan.data.toString('base64'), language: f.formLanguage, title: 'Signed consent form' } }
      : {}),
    ...(!f.refused ? { provision: { type: 'permit', provision: provisions } } : {}),
  }
}

export function ConsentForm({ t, session, vNummer, versions, languages }: { t: Messages; session: WebSession; vNummer: string; versions: { version: string; current: boolean }[]; languages: string[] }) {
  return (
    <section aria-labelledby="consent-heading">
      <h2 id="consent-heading">{t.consentTitle}</h2>
      <form class="stack" method="post" action="/app/consent" enctype="multipart/form-data">
        <Csrf session={session} />
        <div>
          <label for="c-vnummer">{t.vNummer}</label>
          <input id="c-vnummer" name="vnummer" required value={vNummer} autocomplete="off" maxlength={40} />
        </div>
        <fieldset>
          <legend>{t.consentDecision}</legend>
          <input type="radio" id="c-given" name="decision" value="given" checked />
          <label for="c-given">{t.consentGiven}</label>
          <input type="radio" id="c-refused" name="decision" value="refused" />
          <label for="c-refused">{t.consentRefused}</label>
        </fieldset>
        <fieldset>
          <legend>{t.consentHandoverTo}</legend>
          {HANDOVER_RECIPIENTS.map((type) => (
            <span>
              <input type="checkbox" id={`h-${type}`} name="handover" value={type} checked />
              <label for={`h-${type}`}>{t.orgType[type]}</label>
            </span>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t.consentPerspectiveTo}</legend>
          {PERSPECTIVE_RECIPIENTS.map((type) => (
            <span>
              <input type="checkbox" id={`p-${type}`} name="perspective" value={type} checked />
              <label for={`p-${type}`}>{t.orgType[type]}</label>
            </span>
          ))}
        </fieldset>
        <div>
          <label for="c-version">{t.consentFormVersion}</label>
          <select id="c-version" name="version">
            {versions.map((v) => (
              <option value={v.version} selected={v.current}>
                {v.version}
                {v.current ? ` (${t.current})` : ''}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="c-language">{t.consentFormLanguage}</label>
          <select id="c-language" name="language">
            {languages.map((l) => (
              <option value={l}>{l}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="c-scan">
            {t.consentScan}
            <span class="hint" id="c-scan-hint">{t.consentScanHint}</span>
          </label>
          <input id="c-scan" name="scan" type="file" accept="application/pdf,image/jpeg,image/png" aria-describedby="c-scan-hint" />
        </div>
        <div>
          <button type="submit">{t.consentRecord}</button>
        </div>
      </form>
    </section>
  )
}

export function UploadForm({ t, session, problems }: { t: Messages; session: WebSession; problems?: { entry: string; text: string }[] }) {
  return (
    <section aria-labelledby="upload-heading">
      <h2 id="upload-heading">{t.uploadTitle}</h2>
      {problems?.length ? (
        <div class="warning" role="alert">
          <h3>{t.uploadProblems}</h3>
          <ul>
            {problems.map((p) => (
              <li>
                <strong>{p.entry}</strong>: {p.text}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <form class="stack" method="post" action="/app/bundle" enctype="multipart/form-data">
        <Csrf session={session} />
        <div>
          <label for="u-file">
            {t.uploadFile}
            <span class="hint" id="u-hint">{t.uploadHint}</span>
          </label>
          <input id="u-file" name="file" type="file" required accept="application/fhir+json,application/json,.json" aria-describedby="u-hint" />
        </div>
        <div>
          <button type="submit">{t.uploadButton}</button>
        </div>
      </form>
    </section>
  )
}

/**
 * Validation problems per entry: the entry by number and resource type, the element, and the
 * validator's words. `types` are the resource types of the file's entries, when it parsed.
 */
export function problemsPerEntry(t: Messages, issues: OperationOutcomeIssue[], types: (string | undefined)[] = []): { entry: string; text: string }[] {
  return issues.map((i) => {
    const where = [...(i.expression ?? []), ...(i.location ?? [])].join(' ')
    const entry = /entry\[(\d+)\]/.exec(where)
    const index = entry ? Number(entry[1]) : undefined
    const type = index !== undefined ? types[index] : undefined
    const element = /entry\[\d+\]\.resource(?:\.ofType\(\w+\))?\.([\w.[\]]+)/.exec(where)?.[1]
    return {
      entry: index !== undefined ? `${t.entry} ${index + 1}${type ? ` (${type})` : ''}` : t.wholeFile,
      text: `${element ? `${element}: ` : ''}${i.diagnostics ?? i.details?.text ?? i.code}`,
    }
  })
}

export async function TokenHandout({
  t,
  token,
  expiresAt,
  shortCode,
  onlyFor,
  lang,
}: {
  t: Messages
  token: string
  expiresAt: Date
  shortCode: { code: string; expiresAt: Date }
  onlyFor?: string | undefined
  lang: Lang
}) {
  // The QR code as SVG made here: no script, no image request, no third party.
  const svg = await QRCode.toString(token, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return (
    <section aria-labelledby="token-heading">
      <h2 id="token-heading">{t.tokenTitle}</h2>
      <p>{t.tokenIntro}</p>
      {onlyFor ? (
        <p>
          {t.tokenOnlyFor}: <strong>{onlyFor}</strong>
        </p>
      ) : null}
      <figure class="qr" role="img" aria-label={t.tokenQrLabel}>
        {raw(svg)}
      </figure>
      <p>
        <label for="short-code">{t.shortCodeLabel}</label>
        <input id="short-code" class="short-code" readonly value={shortCode.code} size={11} aria-describedby="short-code-expires" />
        <span class="hint" id="short-code-expires">
          {t.shortCodeExpires} {formatDateTime(shortCode.expiresAt, lang)}
        </span>
      </p>
      <details>
        <summary>{t.tokenFullText}</summary>
        <p>
          <label for="token-text">{t.tokenText}</label>
          <textarea id="token-text" readonly rows={4}>
            {token}
          </textarea>
        </p>
        <p>
          {t.tokenExpires} {formatDateTime(expiresAt, lang)}
        </p>
      </details>
    </section>
  )
}

/** The recipients a named token may have: a type of organisation, a URA or a BIG number. */
export const TOKEN_RECIPIENT_TYPES = [...HANDOVER_RECIPIENTS] as const

export function RecipientTokenForm({ t, session, consentId, values }: { t: Messages; session: WebSession; consentId: string; values?: Record<string, string> }) {
  const v = values ?? {}
  return (
    <section aria-labelledby="recipient-token-heading">
      <h2 id="recipient-token-heading">{t.recipientTokenTitle}</h2>
      <p id="recipient-token-intro">{t.recipientTokenIntro}</p>
      <form class="stack" method="post" action={`/app/consents/${encodeURIComponent(consentId)}/token`} aria-describedby="recipient-token-intro">
        <Csrf session={session} />
        <div>
          <label for="r-type">{t.recipientOrgType}</label>
          <select id="r-type" name="org-type">
            <option value="">{t.recipientAnyType}</option>
            {TOKEN_RECIPIENT_TYPES.map((type) => (
              <option value={type} selected={v['org-type'] === type}>
                {t.orgType[type]}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="r-ura">{t.recipientUra}</label>
          <input id="r-ura" name="ura" inputmode="numeric" autocomplete="off" maxlength={8} pattern="[0-9]{8}" value={v.ura ?? ''} />
        </div>
        <div>
          <label for="r-big">{t.recipientBig}</label>
          <input id="r-big" name="big" inputmode="numeric" autocomplete="off" maxlength={11} pattern="[0-9]{11}" value={v.big ?? ''} />
        </div>
        <div>
          <label for="r-until">
            {t.recipientUntil}
            <span class="hint" id="r-until-hint">
              {t.recipientUntilHint}
            </span>
          </label>
          <input id="r-until" name="until" type="date" aria-describedby="r-until-hint" value={v.until ?? ''} />
        </div>
        <div>
          <button type="submit">{t.recipientTokenButton}</button>
        </div>
      </form>
    </section>
  )
}

export function ConsentList({ t, session, consents, isCurrent }: { t: Messages; session: WebSession; consents: readonly Consent[]; isCurrent: (code: string, version: string) => boolean }) {
  const lang = t.lang as Lang
  const active = consents.some((c) => c.status === 'active')
  return (
    <section aria-labelledby="consents-heading">
      <h2 id="consents-heading">{t.consentsTitle}</h2>
      {!active ? (
        <p class="warning" role="alert">
          {t.noActiveConsent}
        </p>
      ) : null}
      {consents.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">{t.colStatus}</th>
              <th scope="col">{t.consentRecordedAt}</th>
              <th scope="col">{t.consentFormVersion}</th>
              <th scope="col">{t.consentScan}</th>
              <th scope="col">{t.withdrawColumn}</th>
            </tr>
          </thead>
          <tbody>
            {consents.map((c) => {
              const form = c.category?.flatMap((x) => x.coding ?? []).find((x) => x.system === 'https://overdracht.nl/fhir/CodeSystem/consent-form')
              return (
                <tr>
                  <td>{t.consentStatus[c.status] ?? c.status}</td>
                  <td>{formatDateTime(c.dateTime, lang) ?? '—'}</td>
                  <td>
                    {form ? `${form.code} ${form.version ?? ''}` : <strong>{t.formMissing}</strong>}
                    {form?.code && form.version && !isCurrent(form.code, form.version) ? <strong> ({t.formOutdated})</strong> : null}
                  </td>
                  <td>{c.sourceAttachment ? t.formAttached : c.status === 'active' ? <strong>{t.formMissing}</strong> : '—'}</td>
                  <td>
                    {c.status === 'active' && c.id ? (
                      <form method="post" action={`/app/consents/${encodeURIComponent(c.id)}/withdraw`}>
                        <Csrf session={session} />
                        <button type="submit" class="secondary">
                          {t.withdrawButton}
                        </button>
                      </form>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

export function EmergencyForm({ t, session, patientId }: { t: Messages; session: WebSession; patientId: string }) {
  return (
    <section aria-labelledby="emergency-heading">
      <h2 id="emergency-heading">{t.emergencyTitle}</h2>
      <p>{t.emergencyIntro}</p>
      <form class="stack" method="post" action={`/app/patients/${encodeURIComponent(patientId)}/emergency`}>
        <Csrf session={session} />
        <div>
          <label for="e-reason">
            {t.emergencyReason}
            <span class="hint" id="e-hint">{t.emergencyReasonHint}</span>
          </label>
          <textarea id="e-reason" name="reason" required minlength={20} maxlength={2000} rows={3} aria-describedby="e-hint" />
        </div>
        <div>
          <button type="submit">{t.emergencyButton}</button>
        </div>
      </form>
    </section>
  )
}

/** An organisation as the pages name it: its type in words and its URA number. */
const orgName = (t: Messages, type: string, ura: string) => `${t.orgType[type] ?? type} (${ura})`

export function DossierHistoryView({ t, history }: { t: Messages; history: DossierHistory }) {
  const lang = t.lang as Lang
  return (
    <>
      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">{t.dossierVersionsTitle}</h2>
        {history.versions.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.colVersion}</th>
                <th scope="col">{t.colUploadedAt}</th>
                <th scope="col">{t.colUploadedBy}</th>
              </tr>
            </thead>
            <tbody>
              {history.versions.map((v) => (
                <tr>
                  <td>{String(v.version)}</td>
                  <td>{formatDateTime(v.uploadedAt, lang)}</td>
                  <td>{orgName(t, v.byOrgType, v.byOrg)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>{t.dossierVersionsNone}</p>
        )}
      </section>
      <section aria-labelledby="opens-heading">
        <h2 id="opens-heading">{t.opensTitle}</h2>
        <p>{t.opensIntro}</p>
        {history.opens.length ? (
          <table>
            <thead>
              <tr>
                <th scope="col">{t.colOpenedBy}</th>
                <th scope="col">{t.colOpenedAt}</th>
              </tr>
            </thead>
            <tbody>
              {history.opens.map((o) => (
                <tr>
                  <td>{orgName(t, o.orgType, o.org)}</td>
                  <td>{formatDateTime(o.at, lang)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>{t.opensNone}</p>
        )}
      </section>
    </>
  )
}
