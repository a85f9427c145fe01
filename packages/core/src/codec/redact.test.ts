import { describe, expect, it } from 'vitest'
import { redactSecret } from './redact.js'

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

  it('leaves text alone without a secret', () => {
    expect(redactSecret('abc', undefined)).toBe('abc')
  })
})
