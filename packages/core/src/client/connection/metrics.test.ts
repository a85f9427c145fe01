import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
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
    // Fewer UTF-16 units than the reused buffer has bytes, more UTF-8 bytes than it holds:
    // counting into it would stop at its end.
    ['three-byte characters past the reused buffer', '€'.repeat(30_000), 90_000],
    ['surrogate pairs past the reused buffer', '😀'.repeat(20_000), 80_000],
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

describe('encodedLength on the hot path', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.restoreAllMocks()
  })

  // Its TSDoc promises no allocation per call below 64 K characters: it runs on every frame.
  it('counts many short strings with one reused buffer and no per-call encoding', () => {
    const encode = vi.spyOn(TextEncoder.prototype, 'encode')
    let buffers = 0
    vi.stubGlobal(
      'Uint8Array',
      class CountedUint8Array extends Uint8Array {
        constructor(length: number) {
          super(length)
          buffers += 1
        }
      },
    )
    const counts = Array.from({ length: 50 }, (_, i) => encodedLength('é'.repeat(i * 400)))
    vi.unstubAllGlobals()
    expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i * 800))
    expect(encode).not.toHaveBeenCalled()
    expect(buffers).toBeLessThanOrEqual(1)
  })
})
