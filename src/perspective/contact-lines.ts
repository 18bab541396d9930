/** The issuing medical service's contact line, configured per organisation (URA) or organisation type. */
export interface ContactLine {
  name: string
  phone: string
  hours: string
}

export type ContactLines = Readonly<Record<string, ContactLine>>

/**
 * Defaults per organisation type. GZA's Praktijklijn: Mon-Fri 08:30-17:00, otherwise 24/7 for
 * urgent matters (gzasielzoekers.nl). DJI institutions each have their own medical service, so
 * its line must be configured per institution (URA); the default points to that.
 */
export const DEFAULT_CONTACT_LINES: ContactLines = {
  gza: { name: 'GZA Praktijklijn', phone: '088-1122112', hours: 'Mon-Fri 08:30-17:00; outside those hours 24/7 for urgent matters' },
  'dji-medical': {
    name: 'Medische dienst of the DJI institution',
    phone: 'not configured: call the institution',
    hours: '24/7 (DJI institutions have round-the-clock GP care)',
  },
}

export function contactLineFor(lines: ContactLines, org: string, orgType: string): ContactLine | undefined {
  return lines[org] ?? lines[orgType]
}

/** Checks a contact-line configuration (OVERDRACHT_CONTACT_LINES_FILE); throws naming the bad entry. */
export function parseContactLines(value: unknown): ContactLines {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('contact lines must be a JSON object keyed by URA or organisation type')
  const out: Record<string, ContactLine> = {}
  for (const [key, line] of Object.entries(value)) {
    const l = line as Partial<ContactLine>
    if (typeof l?.name !== 'string' || typeof l.phone !== 'string' || typeof l.hours !== 'string') {
      throw new Error(`contact line "${key}" needs string fields name, phone and hours`)
    }
    out[key] = { name: l.name, phone: l.phone, hours: l.hours }
  }
  return out
}
