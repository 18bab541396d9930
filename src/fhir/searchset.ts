import type { Bundle, Resource } from '@medplum/fhirtypes'

/** A FHIR search answer: every resource a match, addressed by type and id. */
export function searchset<T extends Resource>(resources: readonly T[]): Bundle<T> {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ fullUrl: `${resource.resourceType}/${resource.id}`, resource, search: { mode: 'match' as const } })),
  }
}
