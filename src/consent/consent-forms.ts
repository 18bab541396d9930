import shipped from './consent-forms.json' with { type: 'json' }

/**
 * The catalogue of consent forms the organisations use: per form type its versions, which one is
 * current, and the languages each version exists in (BCP 47 codes). A consent on a form or version
 * that is not in it, or in a language that version does not exist in, is refused with guidance;
 * a consent on a version that is no longer current is accepted and listed by the form check.
 */
export interface ConsentFormCatalogue {
  /** undefined: known; else what is wrong, for the caller. */
  check(form: { code: string; version: string; language?: string | undefined }): { problem: 'unknown-form' | 'unknown-version' | 'no-such-language'; guidance: string } | undefined
  isCurrent(code: string, version: string): boolean
  current(code: string): string | undefined
}

interface FormData {
  code: string
  versions: { version: string; current?: boolean; languages: string[] }[]
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/

/** Builds the catalogue from data of the shape of `consent-forms.json`; throws a TypeError naming what is wrong. */
export function consentFormCatalogue(data: unknown = shipped): ConsentFormCatalogue {
  const forms = (data as { forms?: unknown }).forms
  if (!Array.isArray(forms) || forms.length === 0) throw new TypeError('forms must be a non-empty list')
  const byCode = new Map<string, FormData>()
  for (const [i, raw] of forms.entries()) {
    const f = raw as FormData
    if (typeof f.code !== 'string' || f.code === '') throw new TypeError(`forms[${i}].code is required`)
    if (!Array.isArray(f.versions) || f.versions.length === 0) throw new TypeError(`forms[${i}].versions must be a non-empty list`)
    if (f.versions.filter((v) => v.current).length !== 1) throw new TypeError(`forms[${i}] must have exactly one current version`)
    for (const [j, v] of f.versions.entries()) {
      if (typeof v.version !== 'string' || !Array.isArray(v.languages) || v.languages.some((l) => typeof l !== 'string' || !LANGUAGE.test(l))) {
        throw new TypeError(`forms[${i}].versions[${j}] needs a version and languages as BCP 47 codes`)
      }
    }
    byCode.set(f.code, f)
  }
  const current = (code: string) => byCode.get(code)?.versions.find((v) => v.current)?.version
  return {
    current,
    isCurrent: (code, version) => current(code) === version,
    check({ code, version, language }) {
      const form = byCode.get(code)
      if (!form) return { problem: 'unknown-form', guidance: `Known consent forms: ${[...byCode.keys()].join(', ')}` }
      const v = form.versions.find((x) => x.version === version)
      if (!v) return { problem: 'unknown-version', guidance: `Versions of ${code}: ${form.versions.map((x) => x.version + (x.current ? ' (current)' : '')).join(', ')}` }
      if (language !== undefined && !v.languages.some((l) => l.toLowerCase() === language.toLowerCase())) {
        return { problem: 'no-such-language', guidance: `Version ${version} of ${code} exists in: ${v.languages.join(', ')}. Use the form in one of these languages, with an interpreter where needed.` }
      }
      return undefined
    },
  }
}

export const DEFAULT_CONSENT_FORMS = consentFormCatalogue()
