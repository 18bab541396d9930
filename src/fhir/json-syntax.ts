/**
 * A strict JSON syntax check for FHIR JSON, run before `JSON.parse`.
 *
 * `JSON.parse` silently keeps the last of duplicate property names and its error messages quote the
 * offending text. FHIR's JSON format forbids duplicate names (https://hl7.org/fhir/R4/json.html), and
 * no message we return may repeat document content, so this scanner reports only a position and what
 * the grammar expected there. It is iterative, so deeply nested input cannot overflow the stack, and
 * it caps the nesting depth because every later stage (validation, storage) walks the tree recursively.
 */

export interface JsonSyntaxError {
  message: string
  /** 1-based */
  line: number
  /** 1-based, counted in UTF-16 code units */
  column: number
}

/** FHIR resources nest about 20 levels deep; a Bundle with contained resources stays well below this. */
export const MAX_JSON_DEPTH = 100

type Container = { kind: 'object'; keys: Set<string> } | { kind: 'array' }

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const LITERALS = ['true', 'false', 'null'] as const

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let pos = 0
  const end = text.length
  const stack: Container[] = []

  const fail = (message: string, at = pos): JsonSyntaxError => ({ message, ...lineAndColumn(text, at) })

  const skipWhitespace = (): JsonSyntaxError | undefined => {
    while (pos < end) {
      const c = text.charCodeAt(pos)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        pos++
      } else if (c === 0x2f /* / */ && (text[pos + 1] === '/' || text[pos + 1] === '*')) {
        return fail('Comments are not allowed in JSON')
      } else {
        return undefined
      }
    }
    return undefined
  }

  /** Scans a string starting at the opening quote; returns its raw text (without quotes) or an error. */
  const scanString = (): string | JsonSyntaxError => {
    const start = pos
    pos++ // opening quote
    let hasEscape = false
    while (pos < end) {
      const c = text.charCodeAt(pos)
      if (c === 0x22 /* " */) {
        pos++
        const raw = text.slice(start + 1, pos - 1)
        return hasEscape ? (JSON.parse(text.slice(start, pos)) as string) : raw
      }
      if (c === 0x5c /* \ */) {
        hasEscape = true
        const next = text[pos + 1]
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) {
            return fail('Invalid \\u escape in string')
          }
          pos += 6
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          pos += 2
        } else {
          return fail('Invalid escape sequence in string')
        }
        continue
      }
      if (c < 0x20) {
        return fail('Unescaped control character in string')
      }
      pos++
    }
    return fail('Unterminated string', start)
  }

  /** Scans one scalar or opens a container; returns an error or undefined. */
  const scanValue = (): JsonSyntaxError | undefined => {
    const c = text[pos]
    if (c === '{') {
      if (stack.length >= MAX_JSON_DEPTH) return fail(`Nesting deeper than ${MAX_JSON_DEPTH} levels`)
      stack.push({ kind: 'object', keys: new Set() })
      pos++
      return undefined
    }
    if (c === '[') {
      if (stack.length >= MAX_JSON_DEPTH) return fail(`Nesting deeper than ${MAX_JSON_DEPTH} levels`)
      stack.push({ kind: 'array' })
      pos++
      return undefined
    }
    if (c === '"') {
      const s = scanString()
      return typeof s === 'string' ? undefined : s
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const start = pos
      NUMBER.lastIndex = pos
      if (!NUMBER.test(text)) return fail('Invalid number', start)
      pos = NUMBER.lastIndex
      const after = text[pos]
      if (after !== undefined && /[0-9A-Za-z.+\-]/.test(after)) return fail('Invalid number', start)
      return undefined
    }
    for (const literal of LITERALS) {
      if (text.startsWith(literal, pos)) {
        const after = text[pos + literal.length]
        if (after !== undefined && /[0-9A-Za-z_]/.test(after)) return fail('Invalid literal')
        pos += literal.length
        return undefined
      }
    }
    if (c === undefined) return fail('Unexpected end of input; expected a value')
    return fail('Unexpected character; expected a value (object, array, string, number, true, false or null)')
  }

  // Byte order mark: tolerated at the very start, as most JSON readers do.
  if (text.charCodeAt(0) === 0xfeff) pos = 1

  let error = skipWhitespace()
  if (error) return error
  if (pos >= end) return fail('Empty document')
  if (text[pos] !== '{') return fail('A FHIR resource must be a JSON object')

  error = scanValue()
  if (error) return error

  // Each iteration is positioned right after a value or right after an opening bracket.
  let justOpened = true
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Container
    error = skipWhitespace()
    if (error) return error
    if (pos >= end) return fail(top.kind === 'object' ? "Unexpected end of input; expected '}'" : "Unexpected end of input; expected ']'")
    const c = text[pos]

    const close = top.kind === 'object' ? '}' : ']'
    if (c === close) {
      stack.pop()
      pos++
      justOpened = false
      continue
    }
    if (c === '}' || c === ']') {
      return fail(`Unexpected '${c}'; expected '${close}'${justOpened ? '' : " or ','"}`)
    }
    if (!justOpened) {
      if (c !== ',') return fail(`Expected ',' or '${close}'`)
      pos++
      error = skipWhitespace()
      if (error) return error
      if (text[pos] === close) return fail(`Trailing comma before '${close}'`)
    }

    if (top.kind === 'object') {
      if (text[pos] !== '"') return fail('Expected a property name in double quotes')
      const keyStart = pos
      const key = scanString()
      if (typeof key !== 'string') return key
      if (top.keys.has(key)) return fail('Duplicate property name', keyStart)
      top.keys.add(key)
      error = skipWhitespace()
      if (error) return error
      if (text[pos] !== ':') return fail("Expected ':' after a property name")
      pos++
      error = skipWhitespace()
      if (error) return error
    }

    const depth = stack.length
    error = scanValue()
    if (error) return error
    justOpened = stack.length > depth
  }

  error = skipWhitespace()
  if (error) return error
  if (pos < end) return fail('Unexpected content after the end of the JSON document')
  return undefined
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: offset - lineStart + 1 }
}
