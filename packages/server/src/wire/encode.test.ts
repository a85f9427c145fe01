import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeControl, encodeEvent, eventFrame, goJson, goJsonWalk, goString } from './encode.js'

describe('goJson', () => {
  it.each([
    [{ b: 1, a: { d: [1, { z: null, y: true }], c: 'x' } }, '{"a":{"c":"x","d":[1,{"y":true,"z":null}]},"b":1}'],
    ['<b>&</b>', '"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"'],
    ['line\u2028sep\u2029', '"line\\u2028sep\\u2029"'],
    [1700000001.5, '1700000001.5'],
    [1e21, '1e+21'],
    [{ skip: undefined, keep: 0 }, '{"keep":0}'],
    [[Number.NaN], '[null]'],
    [[], '[]'],
    [{}, '{}'],
    [{ only: undefined }, '{}'],
    [[[], {}, [[]]], '[[],{},[[]]]'],
    [{ a: [], b: {}, c: [{ d: {} }] }, '{"a":[],"b":{},"c":[{"d":{}}]}'],
  ])('%j → %s', (value, expected) => {
    expect(goJson(value)).toBe(expected)
  })

  it('writes what a recursive writer with sorted keys and HTML escapes writes', () => {
    // The reference: JSON.stringify for scalars (but negative zero, which Go's strconv writes
    // with its sign), recursion for the rest (an object cannot hold the sorted order itself:
    // integer-like keys always come first in JavaScript), keys in the order of their UTF-8
    // bytes, as Go's sort of a map's string keys compared them.
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`
      if (Object.is(value, -0)) return '-0'
      if (typeof value !== 'object' || value === null) return JSON.stringify(value)
      const record = value as Record<string, unknown>
      const keys = Object.keys(record)
        .sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')))
        .filter((key) => record[key] !== undefined)
      return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(',')}}`
    }
    const escaped = (json: string): string =>
      json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(goJson(value)).toBe(escaped(reference(value)))
      }),
    )
    // The two rules the generator seldom reaches: a negative zero, and keys past U+FFFF beside
    // keys in U+E000–U+FFFF (where UTF-16 order and UTF-8 order disagree).
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.constantFrom(-0, 0, 1)), (value) => {
        expect(goJson(value)).toBe(escaped(reference(value)))
      }),
    )
  })

  it('writes what the walk with its own stack writes, recursion and its hand-over included', () => {
    // Deeper than the recursion limit (64) now and then, so that the hand-over is covered too.
    const deep = fc.letrec((tie) => ({ value: fc.oneof({ depthSize: 'large', maxDepth: 80 }, fc.jsonValue({ maxDepth: 2 }), fc.array(tie('value'), { maxLength: 2 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 2 })) })).value
    fc.assert(
      fc.property(deep, (value) => {
        expect(goJson(value)).toBe(goJsonWalk(value))
      }),
    )
    let nested: unknown = 'x'
    for (let n = 0; n < 70; n++) nested = n % 2 === 0 ? [nested] : { k: nested }
    expect(goJson(nested)).toBe(goJsonWalk(nested))
  })

  it('quotes strings as Go 1.18 did: JSON.stringify with the HTML escapes, \\u0008 and \\u000c, a lone surrogate as U+FFFD, however they begin', () => {
    const awkward = fc.constantFrom('"', '\\', '<', '>', '&', '\u2028', '\u2029', '\ud800', '\udc00', '\u0000', '\n', '\b', '\f', 'b', 'f', 'é', 'a', '1', '😀')
    const unicode = fc.oneof(fc.string({ unit: awkward }), fc.string({ unit: 'binary' }), fc.string())
    // The reference, character by character: what Go's encodeState.string wrote for each.
    const go = (text: string): string => {
      let out = '"'
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i)
        const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff
        if (pair) {
          out += text.slice(i, i + 2)
          i++
        } else if (c >= 0xd800 && c <= 0xdfff) out += '\ufffd'
        else if (c === 0x22 || c === 0x5c) out += `\\${text[i]}`
        else if (c === 0x0a) out += '\\n'
        else if (c === 0x0d) out += '\\r'
        else if (c === 0x09) out += '\\t'
        else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`
        else out += text[i]
      }
      return `${out}"`
    }
    fc.assert(
      fc.property(unicode, (text) => {
        expect(goString(text)).toBe(go(text))
      }),
    )
    expect(goString('\b\f\\b')).toBe('"\\u0008\\u000c\\\\b"')
    expect(goString('a\ud800b\udc00')).toBe('"a\ufffdb\ufffd"')
  })

  it('encodes 100,000 nested arrays and objects without exhausting the stack', () => {
    const depth = 100_000
    const arrays = JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown
    expect(goJson(arrays)).toBe('['.repeat(depth) + ']'.repeat(depth))
    let objects: unknown = 1
    for (let n = 0; n < depth; n++) objects = { a: objects }
    expect(goJson(objects)).toBe('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))
  })
})

describe('encodeControl', () => {
  it('writes the original struct order with whole-second ts', () => {
    expect(encodeControl('ready', 'Waiting for messages with 2 already made', 18, 1795802512_999)).toBe(
      '{"code":"ready","detail":"Waiting for messages with 2 already made","ts":1795802512,"requests_remaining":18,"control":true}',
    )
  })
})

describe('encodeEvent and eventFrame', () => {
  const event = { m: { ts: 1.5, e: 0, t: -1, eid: 'x' }, ctx: { votes: 1, user: '101', test: false } }
  const wrapped =
    '{"chan":"bot-1","code":"event","control":false,"dat":{"ctx":{"test":false,"user":"101","votes":1},"m":{"e":0,"eid":"x","t":-1,"ts":1.5}},"detail":null}'

  it('wraps an event with sorted keys', () => {
    expect(encodeEvent('bot-1', event).text).toBe(wrapped)
  })

  it('encodes a single-event frame once as bytes', () => {
    const encoded = encodeEvent('bot-1', event)
    expect(encoded.frame.toString('utf8')).toBe(`${wrapped}\x1f`)
    expect(encoded.frame).toBe(encoded.frame)
  })

  it.each([
    [['A'], 'A\x1f'],
    [['A', 'B'], 'A\x1f\x1fB\x1f'],
    [['A', 'B', 'C'], 'A\x1f\x1fB\x1f\x1fC\x1f'],
  ])('frames %j as %j', (events, frame) => {
    expect(eventFrame(events)).toBe(frame)
  })
})
