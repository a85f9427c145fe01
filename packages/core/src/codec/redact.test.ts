import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allStrings, secretArb, writeJson } from '../test-support/json-escapes.js'
import { redactorByExpression, redactSecret, redactor } from './redact.js'


describe('redactSecret', () => {
  it.each([
    ['api token of hunter2', 'hunter2', 'api token of [redacted]'],
    ['hunter2 and hunter2', 'hunter2', '[redacted] and [redacted]'],
    ['{"token":"a\\"b"}', 'a"b', '{"token":"[redacted]"}'],
    ['{"token":"a\\\\b"}', 'a\\b', '{"token":"[redacted]"}'],
    ['nothing here', 'hunter2', 'nothing here'],
    ['empty secret', '', 'empty secret'],
  ])('%s without %s', (text, secret, expected) => {
    expect(redactSecret(text, secret)).toBe(expected)
  })

  it('redactor(secret) redacts as redactSecret does, both forms', () => {
    const redact = redactor('a"b')
    expect(redact('{"token":"a\\"b"} and a"b')).toBe('{"token":"[redacted]"} and [redacted]')
    expect(redact('nothing')).toBe('nothing')
    expect(redactor(undefined)('a"b')).toBe('a"b')
    expect(redactor('')('a"b')).toBe('a"b')
  })

  it.each([
    ['a & b', '{"detail":"token a \\u0026 b"}', '{"detail":"token [redacted]"}'],
    ['<tok>', '{"detail":"\\u003ctok\\u003e!"}', '{"detail":"[redacted]!"}'],
    ['q"&', '{"detail":"q\\"\\u0026"}', '{"detail":"[redacted]"}'],
  ])('redacts %s as Go encoding/json escapes it in raw JSON', (secret, raw, expected) => {
    expect(redactSecret(raw, secret)).toBe(expected)
    expect(redactSecret(JSON.stringify({ detail: secret }), secret)).toBe('{"detail":"[redacted]"}')
  })

  it('leaves text alone without a secret', () => {
    expect(redactSecret('abc', undefined)).toBe('abc')
  })
})

describe('redactor: any JSON spelling', () => {
  it.each([
    ['every character escaped, lower hex', '{"t":"\\u0068\\u0075\\u006e\\u0074\\u0065\\u0072\\u0032"}'],
    ['every character escaped, upper hex', '{"t":"\\u0068\\u0075\\u006E\\u0074\\u0065\\u0072\\u0032"}'],
    ['a mix of literal and escaped', '{"t":"h\\u0075nt\\u0065r2"}'],
  ])('redacts hunter2 written with %s', (_what, raw) => {
    const redact = redactor('hunter2')
    expect(redact(raw)).toBe('{"t":"[redacted]"}')
  })

  it('redacts a secret with a slash written as \\/ and a character beyond the BMP as two escapes', () => {
    const secret = 'a/b\u{1F600}'
    const raw = '"a\\/b\\ud83d\\uDE00!"'
    expect(redactor(secret)(raw)).toBe('"[redacted]!"')
  })

  // A short escape is a backslash and one letter; a character without one (most) has no
  // spelling that starts with a backslash but \u. (Found by Stryker: an expression that gave
  // every character a "short escape" matched a backslash and the text `undefined`.)
  it('takes a backslash before anything but a short escape or \\u for no spelling of a character', () => {
    const text = '{"t":"\\undefinedb \\qb"}'
    expect(redactSecret(text, 'ab')).toBe(text)
    expect(redactorByExpression('ab')(text)).toBe(text)
  })

  it('returns text holding no form of the secret as it is', () => {
    const text = '{"t":"hunter3 \\u0041"}'
    expect(redactor('hunter2')(text)).toBe(text)
  })

  it('keeps JSON valid: parsed, the redacted text holds the secret in no string or key', () => {
    const raw = '{"hunter2":["x",{"b":"my hunt\\u0065r2"}],"c":1}'
    expect(JSON.parse(redactor('hunter2')(raw))).toEqual({ '[redacted]': ['x', { b: 'my [redacted]' }], c: 1 })
  })

  it('finds the secret in any JSON spelling of any value holding it (property)', () => {
    fc.assert(
      fc.property(secretArb, fc.jsonValue(), fc.integer(), (secret, value, seed) => {
        const { text, value: parsed } = writeJson(value, seed, { secret, chance: 0.5 })
        expect(JSON.parse(text)).toEqual(parsed) // the writer writes valid JSON
        const redact = redactor(secret)
        const out = redact(text)
        expect(out).not.toContain(secret)
        expect(redact(out)).toBe(out) // no spelling of it left
        // Redacting raw text is enough: parsed, it holds the secret in no string or key.
        let reparsed: unknown
        try {
          reparsed = JSON.parse(out)
        } catch {
          return // a secret holding JSON syntax may be cut out of the structure: still clean
        }
        for (const s of allStrings(reparsed)) expect(s).not.toContain(secret)
      }),
      { numRuns: 500 },
    )
  })
})

// Issue 19: the expression ran on every frame. The precheck (no backslash: only the literal
// spelling is possible) must change no result: the expression alone is the definition.
describe('redactor: the precheck before the expression', () => {
  it('gives what the expression alone gives, for any JSON spelling in any value (property)', () => {
    const written = fc.tuple(fc.jsonValue(), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }))
    fc.assert(
      // Several texts through one redactor: later ones meet it with another unit of the secret
      // to look for first.
      fc.property(secretArb, fc.array(written, { minLength: 1, maxLength: 6 }), (secret, texts) => {
        const redact = redactor(secret)
        const byExpression = redactorByExpression(secret)
        for (const [value, seed, chance] of texts) {
          const { text } = writeJson(value, seed, { secret, chance })
          expect(redact(text)).toBe(byExpression(text))
        }
      }),
      { numRuns: 500 },
    )
  })

  it('gives what the expression alone gives for text without a backslash, the secret in it or not (property)', () => {
    const noBackslash = fc.string({ unit: fc.constantFrom('a', 'b', 'h', '"', '/', 'ü', '😀', 'x') })
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '"', '/', 'ü', '😀'), minLength: 1, maxLength: 4 }), noBackslash, noBackslash, (secret, before, after) => {
        for (const text of [before + secret + after + secret, before, secret + secret]) {
          expect(redactor(secret)(text)).toBe(redactorByExpression(secret)(text))
        }
      }),
      { numRuns: 500 },
    )
  })

  // The precheck searches each frame for one character of the secret, and moves to the next
  // character when a frame holds it: one redactor is fed a run of texts, so that it searches
  // every position of the secret, each past the one before.
  it('gives what the expression alone gives for every text of a run through one redactor (property)', () => {
    const unit = fc.constantFrom('a', 'b', 'h', '"', '/', '\\', 'ü', '😀', '\ud83d', 'x')
    fc.assert(
      fc.property(fc.string({ unit, minLength: 1, maxLength: 5 }), fc.array(fc.tuple(fc.string({ unit }), fc.boolean()), { maxLength: 40 }), (secret, pieces) => {
        const redact = redactor(secret)
        const byExpression = redactorByExpression(secret)
        for (const [text, holdsSecret] of pieces) {
          const frame = holdsSecret ? text + secret + text : text
          expect(redact(frame)).toBe(byExpression(frame))
        }
      }),
      { numRuns: 500 },
    )
  })

  it('redacts the secret in a text after many texts held each of its characters, never together', () => {
    const redact = redactor('abc')
    for (let i = 0; i < 7; i++) expect(redact('{"t":"a b c"}')).toBe('{"t":"a b c"}')
    expect(redact('{"t":"abc"}')).toBe('{"t":"[redacted]"}')
  })

  it('redacts overlapping repeats as the expression does, left to right', () => {
    expect(redactor('aa')('aaa')).toBe(redactorByExpression('aa')('aaa'))
    expect(redactor('aa')('aaa')).toBe('[redacted]a')
  })
})

