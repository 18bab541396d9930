import type { Task } from '@medplum/fhirtypes'
import { Csrf } from './layout.js'
import type { Messages } from './messages.nl.js'
import { Problem, taskRows, type FormProblem } from './pages.js'
import type { WebSession } from './session.js'
import { SYSTEM } from '../fhir/systems.js'
import { OPEN_STATUSES, TASK_OUTPUT_SYSTEM } from '../tasks/task-resource.js'
import { formatDate, formatDateTime, type Lang } from './web-kit.js'

/** A BIG number as the register hands it out: eleven digits. */
export const BIG_NUMBER = /^\d{11}$/

/**
 * The task as a phone handover completes it: the task as read, completed, with how the handover
 * went and both caregivers' BIG numbers. changeTask applies the same rules as a PUT of the API.
 */
export function phoneHandoverTask(task: Task, bigs: [string, string]): Task {
  return {
    ...task,
    status: 'completed',
    output: [
      { type: { coding: [{ system: TASK_OUTPUT_SYSTEM, code: 'handover-method' }] }, valueCode: 'phone-handover' },
      ...bigs.map((value) => ({ type: { coding: [{ system: TASK_OUTPUT_SYSTEM, code: 'phone-handover-caregiver' }] }, valueIdentifier: { system: SYSTEM.big, value } })),
    ],
  }
}

/** The details of a transfer or departure, from the task's allow-listed elements, and the phone-handover form while it is open. */
export function TaskPage({
  t,
  session,
  task,
  version,
  ownBig,
  problem,
  canRecord,
}: {
  t: Messages
  session: WebSession
  task: Task
  version: number
  ownBig: string | undefined
  problem?: FormProblem | undefined
  canRecord: boolean
}) {
  const lang = t.lang as Lang
  const row = taskRows([task])[0]
  const method = task.output?.find((o) => o.type?.coding?.some((c) => c.system === TASK_OUTPUT_SYSTEM && c.code === 'handover-method'))?.valueCode
  const open = (OPEN_STATUSES as readonly string[]).includes(task.status)
  const phoneHandover = task.code?.coding?.some((c) => c.system === SYSTEM.taskCode && (c.code === 'transfer' || c.code === 'departure')) ?? false
  return (
    <>
      <h1>
        {t.taskCode[row?.code ?? ''] ?? t.taskTitle} {row?.vNummer ?? ''}
      </h1>
      <dl class="facts">
        <dt>{t.colPatient}</dt>
        <dd>{row?.vNummer ?? '—'}</dd>
        <dt>{t.colPlanned}</dt>
        <dd>{formatDate(row?.planned, lang) ?? t.notPlanned}</dd>
        <dt>{t.colStatus}</dt>
        <dd>{t.taskStatus[task.status] ?? task.status}</dd>
        <dt>{t.colOpened}</dt>
        <dd>{row?.opened ? formatDateTime(row.opened, lang) : '—'}</dd>
        {method ? (
          <>
            <dt>{t.handoverMethod}</dt>
            <dd>{t.handoverMethods[method] ?? method}</dd>
          </>
        ) : null}
      </dl>
      <Problem t={t} problem={problem} />
      {open && phoneHandover && canRecord ? (
        <section aria-labelledby="phone-heading">
          <h2 id="phone-heading">{t.phoneTitle}</h2>
          <p>{t.phoneIntro}</p>
          <form class="stack" method="post" action={`/app/tasks/${encodeURIComponent(task.id ?? '')}/phone-handover`}>
            <Csrf session={session} />
            <input type="hidden" name="version" value={String(version)} />
            <div>
              <label for="ph-own">
                {t.phoneOwnBig}
                <span class="hint" id="ph-own-hint">{t.phoneBigHint}</span>
              </label>
              <input id="ph-own" name="big-own" required readonly inputmode="numeric" pattern="[0-9]{11}" maxlength={11} autocomplete="off" value={ownBig ?? ''} aria-describedby="ph-own-hint" />
            </div>
            <div>
              <label for="ph-other">
                {t.phoneOtherBig}
                <span class="hint" id="ph-other-hint">{t.phoneBigHint}</span>
              </label>
              <input id="ph-other" name="big-other" required inputmode="numeric" pattern="[0-9]{11}" maxlength={11} autocomplete="off" aria-describedby="ph-other-hint" />
            </div>
            <div>
              <button type="submit">{t.phoneButton}</button>
            </div>
          </form>
        </section>
      ) : null}
      <p>
        <a href="/">{t.backHome}</a>
      </p>
    </>
  )
}
