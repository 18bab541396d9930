import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH, findJsonSyntaxError } from './json-syntax.js'

describe('findJsonSyntaxError', () => {
  it.each([
    ['an object with every kind of value', '{"a": [1, -2.5e3, 0, true, false, null, "x\\n\\u00e9"], "b": {"c": {}}, "d": []}'],
    ['surrounding whitespace', ' \n\t{ }\r\n '],
    ['a byte order mark', '\uFEFF{}'],
    ['the same name in different objects', '{"a": {"x": 1}, "b": {"x": 1}}'],
    [`${MAX_JSON_DEPTH} levels of nesting`, '['.repeat(MAX_JSON_DEPTH - 1).replace(/^/, '{"a":') + ']'.repeat(MAX_JSON_DEPTH - 1) + '}'],
  ])('accepts %s', (_name, text) => {
    expect(findJsonSyntaxError(text), text.slice(0, 80)).toBeUndefined()
    expect(() => JSON.parse(text.replace(/^\uFEFF/, '')), 'JSON.parse agrees').not.toThrow()
  })

  it.each([
    ['{"a": 1,}', 1, 9, "Trailing comma before '}'"],
    ['{"a": [1,]}', 1, 10, "Trailing comma before ']'"],
    ['{"a": 1 "b": 2}', 1, 9, "Expected ',' or '}'"],
    ['{"a": [1 }', 1, 10, "Unexpected '}'; expected ']' or ','"],
    ['{"a": 1, "a": 2}', 1, 10, 'Duplicate property name'],
    ['{\n  "a": 1\n}\n// end', 4, 1, 'Comments are not allowed in JSON'],
    ['{"a": 1} x', 1, 10, 'Unexpected content after the end of the JSON document'],
    ['{"a": 01}', 1, 7, 'Invalid number'],
    ['{"a": 1.}', 1, 7, 'Invalid number'],
    ['{"a": tru}', 1, 7, 'Unexpected character; expected a value (object, array, string, number, true, false or null)'],
    ['{"a": nullx}', 1, 7, 'Invalid literal'],
    ['{"a": "\\x"}', 1, 8, 'Invalid escape sequence in string'],
    ['{"a": "\\u12"}', 1, 8, 'Invalid \\u escape in string'],
    ['{"a": "x', 1, 7, 'Unterminated string'],
    ['{"a": {', 1, 8, "Unexpected end of input; expected '}'"],
    ['{a: 1}', 1, 2, 'Expected a property name in double quotes'],
    ['{"a" 1}', 1, 6, "Expected ':' after a property name"],
    ['"just a string"', 1, 1, 'A FHIR resource must be a JSON object'],
  ])('rejects %j at line %i, column %i: %s', (text, line, column, message) => {
    expect(findJsonSyntaxError(text), text).toEqual({ line, column, message })
  })

  it(`rejects more than ${MAX_JSON_DEPTH} levels of nesting`, () => {
    const text = '{"a":'.repeat(MAX_JSON_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_DEPTH + 1)
    expect(findJsonSyntaxError(text)?.message).toBe(`Nesting deeper than ${MAX_JSON_DEPTH} levels`)
  })
})
