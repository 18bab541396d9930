import { describe, expect, it } from 'vitest'
import { attributeValue, childNamed, escapeXmlText, isNil, NS, parseXml, XmlParseError } from './soap-xml.js'

describe('parseXml', () => {
  it('resolves names by namespace, whatever the prefixes', () => {
    const root = parseXml(
      `<?xml version="1.0"?><e:Envelope xmlns:e="${NS.soap}" xmlns:n="${NS.xsi}"><e:Body><R xmlns="${NS.cibg}"><A n:nil="true"/><p:B xmlns:p="urn:other"/></R></e:Body></e:Envelope>`,
    )
    expect(root).toMatchObject({ ns: NS.soap, local: 'Envelope' })
    const body = childNamed(root, NS.soap, 'Body')!
    const r = body.children[0]!
    expect(r).toMatchObject({ ns: NS.cibg, local: 'R' })
    expect(r.children.map((c) => [c.ns, c.local])).toEqual([[NS.cibg, 'A'], ['urn:other', 'B']])
    expect(isNil(r.children[0]!)).toBe(true)
    expect(attributeValue(r.children[0]!, NS.xsi, 'nil')).toBe('true')
  })

  it('does not treat a nil attribute in another namespace as xsi:nil', () => {
    const root = parseXml('<a xmlns:x="urn:not-xsi" x:nil="true"/>')
    expect(isNil(root)).toBe(false)
  })

  it('decodes the predefined entities and character references, and keeps CDATA as is', () => {
    const root = parseXml('<a>1 &amp; 2 &lt;3&gt; &quot;&apos; &#233;&#x41;<![CDATA[&amp;<b>]]></a>')
    expect(root.text).toBe(`1 & 2 <3> "' éA&amp;<b>`)
  })

  it.each([
    ['a DOCTYPE (entity expansion)', '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;">]><a>&y;</a>'],
    ['an undeclared entity', '<a>&nbsp;</a>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a character reference to NUL', '<a>&#0;</a>'],
    ['an undeclared prefix', '<p:a/>'],
    ['two root elements', '<a/><b/>'],
    ['no element', 'not xml'],
    ['an empty document', ''],
    ['mismatched tags', '<a><b></a>'],
  ])('refuses %s', (_name, xml) => {
    expect(() => parseXml(xml)).toThrow(XmlParseError)
  })

  it('keeps whitespace text and ignores comments', () => {
    const root = parseXml('<a>\n  <b> x </b><!-- note -->\n</a>')
    expect(root.children.map((c) => c.local)).toEqual(['b'])
    expect(root.children[0]!.text).toBe(' x ')
  })
})

describe('escapeXmlText', () => {
  it('escapes &, < and > like the .NET serializer', () => {
    expect(escapeXmlText(`a & <b> "c" 'd'`)).toBe(`a &amp; &lt;b&gt; "c" 'd'`)
  })
})
