import type { Task } from '@medplum/fhirtypes'
import { SYSTEM } from '../fhir/systems.js'
import { AT_RISK_URL, DOSSIER_OPENED_URL } from '../tasks/task.service.js'
import type { EmergencyReview } from '../consent/emergency.service.js'
import type { DossierView } from './dossier-view.js'
import { Csrf } from './layout.js'
import type { Messages } from './messages.nl.js'
import type { PerspectiveView } from './perspective-view.js'
import { telHref } from './perspective-view.js'
import type { WebSession } from './session.js'
import { formatDate, formatDateTime, type Lang } from './web-kit.js'


/** The allow-listed fields of a task a page shows: codes, identifiers, dates. */
export interface TaskRow {
  id: string
  code: string
  vNummer: string | undefined
  planned: string | undefined
  status: string
  atRisk: boolean
  opened: string | undefined
}

export function taskRows(tasks: readonly Task[]): TaskRow[] {
  return tasks
    .filter((t): t is Task => t?.resourceType === 'Task' && typeof t.id === 'string')
    .map((t) => ({
      id: t.id!,
      code: t.code?.coding?.[0]?.code ?? '',
      vNummer: t.for?.identifier?.system === SYSTEM.vNummer ? t.for.identifier.value : undefined,
      planned: t.executionPeriod?.start,
      status: t.status,
      atRisk: t.extension?.some((x) => x.url === AT_RISK_URL && x.valueBoolean === true) ?? false,
      opened: t.extension?.find((x) => x.url === DOSSIER_OPENED_URL)?.valueDateTime,
    }))
    .sort((a, b) => (a.planned ?? '9999').localeCompare(b.planned ?? '9999'))
}

export function TaskTable({
  t,
  caption,
  rows,
  perspective,
  receipts,
  detail = false,
  intro,
}: {
  t: Messages
  caption: string
  rows: TaskRow[]
  perspective: boolean
  receipts: boolean
  /** Whether the kind links to the task's own page (a caregiver's: the phone handover is recorded there). */
  detail?: boolean
  intro?: string
}) {
  const lang = t.lang as Lang
  if (rows.length === 0) {
    return (
      <section aria-label={caption}>
        <h2>{caption}</h2>
        {intro ? <p>{intro}</p> : null}
        <p>{t.tasksNone}</p>
      </section>
    )
  }
  return (
    <section aria-label={caption}>
      <h2>{caption}</h2>
      {intro ? <p>{intro}</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">{t.colKind}</th>
            <th scope="col">{t.colPatient}</th>
            <th scope="col">{t.colPlanned}</th>
            <th scope="col">{t.colStatus}</th>
            {receipts ? <th scope="col">{t.colOpened}</th> : null}
            {perspective ? <th scope="col">{t.colAction}</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr>
              <td>
                {detail ? (
                  <a href={`/app/tasks/${encodeURIComponent(r.id)}`}>
                    {t.taskCode[r.code] ?? r.code}
                    <span class="visually-hidden"> {r.vNummer ?? ''}</span>
                  </a>
                ) : (
                  (t.taskCode[r.code] ?? r.code)
                )}
              </td>
              <td>{r.vNummer ?? '—'}</td>
              <td>{formatDate(r.planned, lang) ?? t.notPlanned}</td>
              <td>{t.taskStatus[r.status] ?? r.status}</td>
              {receipts ? <td>{r.opened ? formatDateTime(r.opened, lang) : r.atRisk ? <strong>{t.atRisk}</strong> : '—'}</td> : null}
              {perspective ? (
                <td>
                  <a href={`/app/tasks/${encodeURIComponent(r.id)}/perspective`}>
                    {t.openPerspective}
                    <span class="visually-hidden"> {r.vNummer ?? ''}</span>
                  </a>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

export interface FormProblem {
  message: string
  details: string[]
}

export function Problem({ t, problem }: { t: Messages; problem: FormProblem | undefined }) {
  if (!problem) return null
  return (
    <div class="warning" role="alert">
      <h2>{problem.message || t.invalidInput}</h2>
      {problem.details.length ? (
        <ul>
          {problem.details.map((d) => (
            <li>{d}</li>
          ))}
        </ul>
      ) : null}
    </div>
  )
}

/** A regievoerder's departure, or (with `transfer`) a custodian's transfer to another care organisation. */
export function AnnounceDepartureForm({ t, session, problem, transfer }: { t: Messages; session: WebSession; problem?: FormProblem | undefined; transfer?: { vNummer: string } }) {
  return (
    <section aria-labelledby="announce-heading">
      <h2 id="announce-heading">{transfer ? t.transferTitle : t.announceTitle}</h2>
      {transfer ? null : <p>{t.announceIntro}</p>}
      <Problem t={t} problem={problem} />
      <form class="stack" method="post" action={transfer ? '/app/transfers' : '/app/departures'}>
        <Csrf session={session} />
        <div>
          <label for="vnummer">{t.announceVNummer}</label>
          <input id="vnummer" name="vnummer" required autocomplete="off" maxlength={40} value={transfer?.vNummer ?? ''} />
        </div>
        <div>
          <label for="owner">
            {transfer ? t.transferOwner : t.announceOwner}
            <span class="hint" id="owner-hint">{t.fieldHint8}</span>
          </label>
          <input id="owner" name="owner" required inputmode="numeric" pattern="\d{8}" aria-describedby="owner-hint" autocomplete="off" />
        </div>
        <div>
          <label for="recipients">{t.announceRecipients}</label>
          <input id="recipients" name="recipients" autocomplete="off" maxlength={200} />
        </div>
        <div>
          <label for="date">{transfer ? t.transferDate : t.announceDate}</label>
          <input id="date" name="date" type="date" required />
        </div>
        <div>
          <button type="submit">{transfer ? t.transferButton : t.announceButton}</button>
        </div>
      </form>
    </section>
  )
}

export function PerspectivePage({ t, view, vNummer }: { t: Messages; view: PerspectiveView; vNummer: string | undefined }) {
  const lang = t.lang as Lang
  return (
    <>
      <h1>
        {t.perspectiveTitle}
        {vNummer ? ` — ${vNummer}` : ''}
      </h1>
      <p>{t.perspectiveIntro}</p>
      {view.stale ? (
        <div class="warning" role="alert">
          <h2>{t.staleTitle}</h2>
          <ul>
            {view.staleReasons.map((r) => (
              <li>{t.staleReason[r] ?? r}</li>
            ))}
          </ul>
          <p>{t.staleAdvice}</p>
        </div>
      ) : null}
      {view.safetyOnly ? <p class="notice">{t.safetyOnly}</p> : null}
      <h2>{t.whatToDo}</h2>
      {view.flags.length === 0 ? (
        <p>{t.perspectiveNoFlags}</p>
      ) : (
        <ul class="flags">
          {view.flags.map((f) => (
            <li>
              <span class="title">
                {f.title}
                {f.value ? `: ${f.value}` : ''}
                {f.until ? ` (${t.until} ${formatDate(f.until, lang) ?? ''})` : ''}
                {f.safetyCritical ? <span class="tag">{t.safetyCritical}</span> : null}
              </span>
              {t.actionWhatToDo[f.code]}
            </li>
          ))}
        </ul>
      )}
      <h2>{t.provenanceTitle}</h2>
      <dl class="facts">
        {view.issuerType || view.issuerOrg ? (
          <>
            <dt>{t.issuedBy}</dt>
            <dd>
              {view.issuerType ? t.orgType[view.issuerType] ?? view.issuerType : ''}
              {view.issuerOrg ? ` (URA ${view.issuerOrg})` : ''}
            </dd>
          </>
        ) : null}
        {view.reviewerRole ? (
          <>
            <dt>{t.reviewedByRole}</dt>
            <dd>{t.reviewerRole[view.reviewerRole] ?? view.reviewerRole}</dd>
          </>
        ) : null}
        <dt>{t.reviewedAt}</dt>
        <dd>{formatDateTime(view.reviewedAt, lang) ?? '—'}</dd>
        {view.plannedDeparture ? (
          <>
            <dt>{t.plannedDeparture}</dt>
            <dd>{formatDate(view.plannedDeparture, lang)}</dd>
          </>
        ) : null}
      </dl>
      {view.contact ? (
        <section aria-labelledby="contact-heading" class="notice">
          <h2 id="contact-heading">{t.contactTitle}</h2>
          <p>
            {view.contact.name}:{' '}
            <a class="tel" href={telHref(view.contact.phone)}>
              {view.contact.phone}
            </a>
          </p>
          {view.contact.hours ? (
            <p>
              {t.contactHours}: {view.contact.hours}
            </p>
          ) : null}
        </section>
      ) : null}
      <p class="no-print">
        <a href="/">{t.backHome}</a>
      </p>
    </>
  )
}

export function OpenDossierForm({ t, session, refused, limited }: { t: Messages; session: WebSession; refused?: boolean; limited?: boolean }) {
  return (
    <section aria-labelledby="open-heading">
      <h2 id="open-heading">{t.openDossierTitle}</h2>
      <p>{t.openDossierIntro}</p>
      {limited ? (
        <p class="warning" role="alert">
          {t.shortCodeLimited}
        </p>
      ) : refused ? (
        <p class="warning" role="alert">
          {t.dossierRefused}
        </p>
      ) : null}
      <form class="stack" method="post" action="/app/dossier">
        <Csrf session={session} />
        <div>
          <label for="token">
            {t.consentTokenLabel}
            <span class="hint" id="token-hint">
              {t.shortCodeHint}
            </span>
          </label>
          <textarea id="token" name="token" required rows={3} autocomplete="off" autocapitalize="characters" spellcheck={false} aria-describedby="token-hint" />
        </div>
        <div id="scan-slot" data-label={t.scanButton} />
        <div>
          <button type="submit">{t.openDossierButton}</button>
        </div>
      </form>
      <script src="/assets/scan.js" defer />
    </section>
  )
}

function Section({ id, title, empty, children, count }: { id: string; title: string; empty: string; count: number; children?: unknown }) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {count === 0 ? <p>{empty}</p> : (children as never)}
    </section>
  )
}

export function DossierPage({ t, view, version }: { t: Messages; view: DossierView; version: number }) {
  const lang = t.lang as Lang
  return (
    <>
      <h1>{t.dossierTitle}</h1>
      <p class="notice">{t.dossierPrint}</p>
      <section aria-labelledby="patient-heading">
        <h2 id="patient-heading">{t.patientTitle}</h2>
        <dl class="facts">
          <dt>{t.name}</dt>
          <dd>{view.patient?.name ?? '—'}</dd>
          <dt>{t.birthDate}</dt>
          <dd>{formatDate(view.patient?.birthDate, lang) ?? '—'}</dd>
          <dt>{t.identifiers}</dt>
          <dd>
            {[view.patient?.vNummer ? `${t.vNummer} ${view.patient.vNummer}` : '', view.patient?.bsn ? `${t.bsn} ${view.patient.bsn}` : ''].filter(Boolean).join(', ') || '—'}
          </dd>
          <dt>{t.dossierVersion}</dt>
          <dd>{version}</dd>
        </dl>
      </section>
      <Section id="alerts-heading" title={t.alertsTitle} empty={t.none} count={view.alerts.length}>
        <ul>
          {view.alerts.map((a) => (
            <li>{a.what}</li>
          ))}
        </ul>
      </Section>
      <Section id="allergies-heading" title={t.allergiesTitle} empty={t.none} count={view.allergies.length}>
        <ul>
          {view.allergies.map((a) => (
            <li>
              <strong>{a.what}</strong>
              {a.reaction ? ` — ${a.reaction}` : ''}
              {a.criticality ? ` (${t.criticality}: ${a.criticality})` : ''}
            </li>
          ))}
        </ul>
      </Section>
      <Section id="medication-heading" title={t.medicationTitle} empty={t.none} count={view.medication.length}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t.medicationTitle}</th>
              <th scope="col">{t.dosage}</th>
            </tr>
          </thead>
          <tbody>
            {view.medication.map((m) => (
              <tr>
                <td>{m.what}</td>
                <td>{m.dosage ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section id="conditions-heading" title={t.conditionsTitle} empty={t.none} count={view.conditions.length}>
        <ul>
          {view.conditions.map((c) => (
            <li>
              {c.what}
              {c.since ? ` (${t.since} ${formatDate(c.since.slice(0, 10), lang) ?? ''})` : ''}
            </li>
          ))}
        </ul>
      </Section>
      <Section id="observations-heading" title={t.observationsTitle} empty={t.none} count={view.observations.length}>
        <table>
          <thead>
            <tr>
              <th scope="col">{t.observationsTitle}</th>
              <th scope="col">{t.searchValue}</th>
              <th scope="col">{t.measured}</th>
            </tr>
          </thead>
          <tbody>
            {view.observations.map((o) => (
              <tr>
                <td>{o.what}</td>
                <td>{o.value ?? '—'}</td>
                <td>{formatDateTime(o.at, lang) ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section id="documents-heading" title={t.documentsTitle} empty={t.none} count={view.documents.length}>
        <ul>
          {view.documents.map((d) => (
            <li>
              {d.title}
              {d.date ? ` (${formatDate(d.date.slice(0, 10), lang) ?? ''})` : ''}
            </li>
          ))}
        </ul>
      </Section>
      <p class="no-print">
        <a href="/">{t.backHome}</a>
      </p>
    </>
  )
}

export function ReviewQueue({ t, session, reviews, closed }: { t: Messages; session: WebSession; reviews: EmergencyReview[]; closed: boolean }) {
  const lang = t.lang as Lang
  return (
    <section aria-labelledby="reviews-heading">
      <h2 id="reviews-heading">{t.reviewsTitle}</h2>
      {closed ? (
        <p class="notice" role="status">
          {t.reviewClosed}
        </p>
      ) : null}
      {reviews.length === 0 ? <p>{t.reviewsNone}</p> : null}
      {reviews.map((r, i) => (
        <article class="notice" aria-labelledby={`review-${i}`}>
          <h3 id={`review-${i}`}>
            {t.reviewOpenedAt} {formatDateTime(r.openedAt, lang)}
          </h3>
          <dl class="facts">
            <dt>{t.reviewBy}</dt>
            <dd>
              {t.orgType[r.organisationType] ?? r.organisationType} (URA {r.organisation}){r.bigNumber ? `, BIG ${r.bigNumber}` : ''}
            </dd>
            <dt>{t.patientId}</dt>
            <dd>{r.patientId}</dd>
            <dt>{t.reviewReason}</dt>
            <dd>{r.reason ?? '—'}</dd>
          </dl>
          <form class="stack" method="post" action={`/app/reviews/${encodeURIComponent(r.id)}/close`}>
            <Csrf session={session} />
            <fieldset>
              <legend>{t.reviewConclusion}</legend>
              <input type="radio" id={`justified-${i}`} name="conclusion" value="justified" required />
              <label for={`justified-${i}`}>{t.justified}</label>
              <input type="radio" id={`unjustified-${i}`} name="conclusion" value="unjustified" />
              <label for={`unjustified-${i}`}>{t.unjustified}</label>
            </fieldset>
            <div>
              <label for={`note-${i}`}>{t.reviewNote}</label>
              <textarea id={`note-${i}`} name="note" rows={2} maxlength={2000} />
            </div>
            <div>
              <button type="submit">{t.reviewClose}</button>
            </div>
          </form>
        </article>
      ))}
    </section>
  )
}

export function AccessLogForm({ t }: { t: Messages }) {
  return (
    <section aria-labelledby="access-log-heading">
      <h2 id="access-log-heading">{t.accessLogTitle}</h2>
      <p>{t.accessLogIntro}</p>
      <form class="stack" method="get" action="/app/access-log">
        <div>
          <label for="patient">{t.patientId}</label>
          <input id="patient" name="patient" required autocomplete="off" maxlength={64} />
        </div>
        <div>
          <label for="from">{t.periodFrom}</label>
          <input id="from" name="from" type="date" />
        </div>
        <div>
          <label for="to">{t.periodTo}</label>
          <input id="to" name="to" type="date" />
        </div>
        <div>
          <button type="submit">{t.accessLogButton}</button>
        </div>
      </form>
    </section>
  )
}

export function PatientSearchForm({ t, none }: { t: Messages; none?: boolean }) {
  return (
    <section aria-labelledby="search-heading">
      <h2 id="search-heading">{t.caregiverIntro}</h2>
      {none ? (
        <p class="notice" role="status">
          {t.searchNone}
        </p>
      ) : null}
      <form class="stack" method="get" action="/app/patients">
        <fieldset>
          <legend>{t.searchKind}</legend>
          <input type="radio" id="kind-v" name="kind" value="v-nummer" checked />
          <label for="kind-v">{t.vNummer}</label>
          <input type="radio" id="kind-bsn" name="kind" value="bsn" />
          <label for="kind-bsn">{t.bsn}</label>
        </fieldset>
        <div>
          <label for="value">{t.searchValue}</label>
          <input id="value" name="value" required autocomplete="off" maxlength={40} />
        </div>
        <div>
          <button type="submit">{t.searchButton}</button>
        </div>
      </form>
    </section>
  )
}
