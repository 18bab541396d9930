import type { Bundle } from '@medplum/fhirtypes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countAuditEvents } from '../src/audit/audit.repository.js'
import { countBundleVersions } from '../src/handover/bundle.repository.js'
import { SYSTEM } from '../src/fhir/systems.js'
import { consentResource, fatherDocument, handoverBundle, newVNummer, syntheaAsCollection, syntheaFiles } from './support/fhir-builders.js'
import { createTestApp, type TestApp } from './support/test-app.js'

let t: TestApp
beforeAll(async () => {
  t = await createTestApp()
})
afterAll(async () => t?.close())

/** Records consent for a new patient and returns the V-nummer and the consent token. */
async function patientWithConsent(): Promise<{ vNummer: string; token: string }> {
  const vNummer = newVNummer()
  const res = await t.post('/fhir/Consent', { as: 'gzaDoctor', body: consentResource({ vNummer }) })
  expect(res.status, await res.clone().text()).toBe(201)
  return { vNummer, token: res.headers.get('x-consent-token')! }
}

const withoutServerFields = (bundle: Bundle) => {
  const { id: _id, meta, ...rest } = bundle
  const { versionId: _v, lastUpdated: _l, extension, ...otherMeta } = meta ?? {}
  // The server adds the dossier version as a meta extension; the client's own extensions stay.
  const own = (extension ?? []).filter((e) => e.url !== 'https://overdracht.nl/fhir/StructureDefinition/dossier-version')
  const kept = { ...otherMeta, ...(own.length ? { extension: own } : {}) }
  return Object.keys(kept).length ? { ...rest, meta: kept } : rest
}

describe('bundle intake', () => {
  it.each(syntheaFiles())('Synthea patient %s uploads as a collection and reads back JSON-equal', async (file) => {
    const { vNummer, token } = await patientWithConsent()
    const bundle = syntheaAsCollection(file, vNummer)
    const created = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(created.status, await created.clone().text()).toBe(201)
    expect(created.headers.get('content-type')).toContain('application/fhir+json')
    const location = created.headers.get('location')!
    expect(location).toMatch(/^http:\/\/localhost\/fhir\/Bundle\/[0-9a-f-]{36}\/_history\/1$/)
    expect(created.headers.get('etag')).toBe('W/"1"')
    const body = (await created.json()) as Bundle
    expect(body.meta?.versionId).toBe('1')

    const read = await t.get(`/fhir/Bundle/${body.id}`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(read.status, await read.clone().text()).toBe(200)
    expect(read.headers.get('etag')).toBe('W/"1"')
    const back = (await read.json()) as Bundle
    expect(withoutServerFields(back)).toEqual(withoutServerFields(bundle))
    expect(back.id).toBe(body.id)
  })

  it('the R4 discharge-summary document (Bundle-father) uploads and reads back JSON-equal', async () => {
    const { vNummer, token } = await patientWithConsent()
    const bundle = fatherDocument(vNummer)
    const created = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(created.status, await created.clone().text()).toBe(201)
    const { id } = (await created.json()) as Bundle
    const read = await t.get(`/fhir/Bundle/${id}`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(read.status, await read.clone().text()).toBe(200)
    expect(withoutServerFields((await read.json()) as Bundle)).toEqual(withoutServerFields(bundle))
  })

  it('a second upload for the same patient is a Bundle of its own (FHIR version 1), dossier version 2, and becomes the current dossier', async () => {
    const { vNummer, token } = await patientWithConsent()
    const first = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer) })
    expect(first.status, await first.clone().text()).toBe(201)
    const second = await t.post('/fhir/Bundle', {
      as: 'gzaDoctor',
      body: handoverBundle(vNummer, [], { gender: 'female' }),
    })
    expect(second.status, await second.clone().text()).toBe(201)
    expect(second.headers.get('etag')).toBe('W/"1"')
    expect(second.headers.get('location')).toMatch(/\/_history\/1$/)

    const search = await t.get(`/fhir/Patient?identifier=${encodeURIComponent(`${SYSTEM.vNummer}|${vNummer}`)}`, { as: 'gzaDoctor' })
    expect(search.status, await search.clone().text()).toBe(200)
    const found = (await search.json()) as Bundle
    expect(found.total).toBe(1)
    const patientId = found.entry![0]!.resource!.id!

    const current = await t.get(`/fhir/Patient/${patientId}/$handover`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(current.status, await current.clone().text()).toBe(200)
    const body = (await current.json()) as Bundle
    expect(body.meta?.versionId).toBe('1')
    expect(body.meta?.extension).toEqual([{ url: 'https://overdracht.nl/fhir/StructureDefinition/dossier-version', valueInteger: 2 }])
    const vread = await t.get(`/fhir/Bundle/${body.id}/_history/1`, { as: 'escortNurse', headers: { 'x-consent-token': token } })
    expect(vread.status, await vread.clone().text()).toBe(200)
    expect((await t.get(`/fhir/Bundle/${body.id}/_history/2`, { as: 'escortNurse', headers: { 'x-consent-token': token } })).status).toBe(404)
    expect((body.entry![0]!.resource as { gender?: string }).gender).toBe('female')
  })

  it('the stored bytes of a bundle contain none of its strings', async () => {
    const { vNummer } = await patientWithConsent()
    const canary = 'CANARY-diagnosis-zeldzame-ziekte-7731'
    const bundle = handoverBundle(vNummer, [
      {
        resourceType: 'Condition',
        subject: { reference: 'urn:uuid:8f1b3c1e-6f0a-4c7e-9d51-1f5f6c0e0001' },
        code: { text: canary },
      },
    ])
    const created = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: bundle })
    expect(created.status, await created.clone().text()).toBe(201)
    const { id } = (await created.json()) as Bundle
    const row = await t.db.selectFrom('bundle_version').selectAll().where('id', '=', id!).executeTakeFirstOrThrow()
    const everything = JSON.stringify(row)
    for (const s of [canary, vNummer, 'Testpersoon', 'Fictief']) expect(everything).not.toContain(s)
    const keyRow = await t.db.selectFrom('patient_key').selectAll().where('patient_id', '=', row.patient_id).executeTakeFirstOrThrow()
    expect(JSON.stringify(keyRow)).not.toContain(canary)
  })
})

describe('invalid input is refused and nothing is stored', () => {
  const invalid: [string, (v: string) => unknown][] = [
    ['a wrong type (birthDate as a number)', (v) => handoverBundle(v, [], { birthDate: 19800101 as unknown as string })],
    ['an unknown element', (v) => handoverBundle(v, [], { favouriteColour: 'blue' } as object)],
    [
      'a broken invariant (Observation with both value and dataAbsentReason)',
      (v) =>
        handoverBundle(v, [
          {
            resourceType: 'Observation',
            status: 'final',
            code: { text: 'x' },
            valueString: 'y',
            dataAbsentReason: { text: 'z' },
          },
        ]),
    ],
    ['a bad required code (gender)', (v) => handoverBundle(v, [], { gender: 'vrouw' as 'female' })],
    ['an empty array', (v) => handoverBundle(v, [], { name: [] })],
    ['no V-nummer on the Patient', () => handoverBundle('x', [], { identifier: [{ system: 'urn:other', value: '1' }] })],
    ['two Patients', (v) => ({ ...handoverBundle(v), entry: [...handoverBundle(v).entry!, ...handoverBundle(v).entry!] })],
    ['a searchset bundle', (v) => ({ ...handoverBundle(v), type: 'searchset' })],
  ]

  it.each(invalid)('%s: 422 with an OperationOutcome naming the path, no rows written', async (_name, make) => {
    const { vNummer } = await patientWithConsent()
    const bundlesBefore = await countBundleVersions(t.db)
    const auditBefore = await countAuditEvents(t.db)
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: make(vNummer) })
    const text = await res.text()
    expect(res.status, text).toBe(422)
    expect(res.headers.get('content-type')).toContain('application/fhir+json')
    const outcome = JSON.parse(text)
    expect(outcome.resourceType).toBe('OperationOutcome')
    expect(outcome.issue.length).toBeGreaterThan(0)
    expect(outcome.issue[0].expression?.[0], text).toMatch(/^Bundle/)
    expect(await countBundleVersions(t.db)).toBe(bundlesBefore)
    expect(await countAuditEvents(t.db)).toBe(auditBefore)
  })

  it('malformed JSON is 400 with an OperationOutcome', async () => {
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', rawBody: '{"resourceType": "Bundle", ', headers: { 'content-type': 'application/fhir+json' } })
    const text = await res.text()
    expect(res.status, text).toBe(400)
    expect(JSON.parse(text).resourceType).toBe('OperationOutcome')
  })

  it('a wrong content type is 415', async () => {
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', rawBody: '<Bundle/>', headers: { 'content-type': 'application/xml' } })
    const text = await res.text()
    expect(res.status, text).toBe(415)
    expect(JSON.parse(text).issue[0].code).toBe('not-supported')
  })

  it('a body over the size limit is 413 and the service keeps serving', async () => {
    const small = await createTestApp({ settings: { maxBodyBytes: 1000 } })
    try {
      const { vNummer } = { vNummer: newVNummer() }
      const res = await small.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer, [], { name: [{ text: 'x'.repeat(2000) }] }) })
      const text = await res.text()
      expect(res.status, text).toBe(413)
      expect(JSON.parse(text).resourceType).toBe('OperationOutcome')
      const next = await small.get('/fhir/metadata')
      expect(next.status).toBe(200)
    } finally {
      await small.close()
    }
  })

  it('the error body never echoes the submitted values', async () => {
    const { vNummer } = await patientWithConsent()
    const secret = 'GEHEIM-waarde-9912'
    const res = await t.post('/fhir/Bundle', { as: 'gzaDoctor', body: handoverBundle(vNummer, [], { gender: secret as 'female' }) })
    const text = await res.text()
    expect(res.status, text).toBe(422)
    expect(text).not.toContain(secret)
    expect(t.logLines.join('')).not.toContain(secret)
  })
})
