import { describe, expect, it } from 'vitest'
import { redactSecret, redactor } from './redact.js'

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
