import { describe, expect, it } from 'vitest'
import { encodeControl, encodeEvent, eventFrame, goJson } from './encode.js'

describe('goJson', () => {
  it.each([
    [{ b: 1, a: { d: [1, { z: null, y: true }], c: 'x' } }, '{"a":{"c":"x","d":[1,{"y":true,"z":null}]},"b":1}'],
    ['<b>&</b>', '"\\u003cb\\u003e\\u0026\\u003c/b\\u003e"'],
    ['line\u2028sep\u2029', '"line\\u2028sep\\u2029"'],
    [1700000001.5, '1700000001.5'],
    [1e21, '1e+21'],
    [{ skip: undefined, keep: 0 }, '{"keep":0}'],
    [[Number.NaN], '[null]'],
  ])('%j → %s', (value, expected) => {
    expect(goJson(value)).toBe(expected)
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
