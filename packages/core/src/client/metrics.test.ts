import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodedLength, utf8Length } from './metrics.js'

const utf8 = (text: string) => new TextEncoder().encode(text).length

describe('utf8Length and encodedLength', () => {
  it.each([
    ['ASCII', 'hello', 5],
    ['two-byte', 'é', 2],
    ['three-byte', '€', 3],
    ['a surrogate pair', '😀', 4],
    ['a lone surrogate, sent as U+FFFD', '\ud800', 3],
    ['the separator', '\x1f', 1],
    ['empty', '', 0],
  ])('counts %s', (_what, text, bytes) => {
    expect(utf8Length(text)).toBe(bytes)
    expect(encodedLength(text)).toBe(bytes)
  })

  it('agrees with TextEncoder on any string, short or past the reused buffer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat({ max: 30_000 }), (text, pad) => {
        expect(utf8Length(text)).toBe(utf8(text))
        expect(encodedLength(text)).toBe(utf8(text))
        const long = 'x'.repeat(pad) + text
        expect(encodedLength(long)).toBe(utf8(long))
      }),
      { numRuns: 300 },
    )
  })
})
