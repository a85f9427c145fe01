import { describe, expect, it } from 'vitest'
import { decodeSegment } from './decode-segment.js'

// The io-ts-free decoding connect() runs: its edges, which the property tests meet rarely.
describe('decodeSegment', () => {
  it.each([
    ['null', 'null'],
    ['1', 'number'],
    ['"x"', 'string'],
    ['true', 'boolean'],
    ['[1]', 'an array'],
  ])('reports JSON that is no object (%s) as an unknown shape, naming what it is', (segment, what) => {
    expect(decodeSegment(segment)).toEqual({
      type: 'diagnostic',
      diagnostic: { kind: 'unknown-shape', message: `(root): expected a control payload or an event, got ${what}`, raw: segment },
    })
  })

  it('never quotes the segment in a not-json message (the engine quotes the bad text: a token piece)', () => {
    const segment = '{"token": secret-piece-of-a-token}'
    const decoded = decodeSegment(segment)
    expect(decoded.type).toBe('diagnostic')
    if (decoded.type !== 'diagnostic') return
    expect(decoded.diagnostic.kind).toBe('not-json')
    expect(decoded.diagnostic.message).toBe('Not valid JSON (unexpected character)')
    expect(decoded.diagnostic.message).not.toContain('secret')
  })

  it("keeps the engine's reason when it quotes nothing", () => {
    const empty = decodeSegment('')
    expect(empty.type === 'diagnostic' && empty.diagnostic.message).toBe('Unexpected end of JSON input')
  })

  it('uses the explanation it is given for a rejected value', () => {
    const decoded = decodeSegment('{"m":{"e":"x"},"ctx":{}}', undefined, undefined, () => 'explained')
    expect(decoded).toEqual({ type: 'diagnostic', diagnostic: { kind: 'unknown-shape', message: 'explained', raw: '{"m":{"e":"x"},"ctx":{}}' } })
  })
})
