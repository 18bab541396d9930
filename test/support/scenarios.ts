import type { Bundle, Consent } from '@medplum/fhirtypes'
import { expect } from 'vitest'
import { consentResource, handoverBundle, newVNummer } from './fhir-builders.js'
import type { TestApp } from './test-app.js'

/**
 * A new patient whose GZA custodian recorded consent and uploaded a dossier, over HTTP: the
 * starting point of most handovers.
 */
export async function patientWithDossier(t: TestApp) {
  const vNummer = newVNummer()
  const consent = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(consent.status, await consent.clone().text()).toBe(201)
  const upload = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
  expect(upload.status, await upload.clone().text()).toBe(201)
  const bundleId = ((await upload.json()) as Bundle).id!
  const row = await t.db.selectFrom('bundle_version').select('patient_id').where('id', '=', bundleId).executeTakeFirstOrThrow()
  const resource = (await consent.json()) as Consent
  return {
    vNummer,
    bundleId,
    patientId: row.patient_id,
    consent: resource,
    consentId: resource.id!,
    token: consent.headers.get('x-consent-token')!,
  }
}
