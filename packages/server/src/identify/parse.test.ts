import { either } from 'fp-ts'
import { describe, expect, it } from 'vitest'
import { AfterError, goAtoi, parseIdentify } from './parse.js'

describe('parseIdentify', () => {
  it.each([
    [
      '{"id": 811073947382579200, "token": "testtoken", "bot": true}',
      'json: cannot unmarshal number into Go struct field WebsocketIdentifyPayload.id of type string',
    ],
    ['{"id":"1","token":"t","bot":"yes"}', 'json: cannot unmarshal string into Go struct field WebsocketIdentifyPayload.bot of type bool'],
    ['{"id":"1","token":["t"]}', 'json: cannot unmarshal array into Go struct field WebsocketIdentifyPayload.token of type string'],
    ['{"id":{},"token":1}', 'json: cannot unmarshal object into Go struct field WebsocketIdentifyPayload.id of type string'],
    ['"hello"', 'json: cannot unmarshal string into Go value of type types.WebsocketIdentifyPayload'],
    ['null', 'strconv.Atoi: parsing "": invalid syntax'],
    ['{"id":"abc","token":"t"}', 'strconv.Atoi: parsing "abc": invalid syntax'],
    ['{"id":"99999999999999999999","token":"t"}', 'strconv.Atoi: parsing "99999999999999999999": value out of range'],
    ['{"id":"0","token":"secret"}', 'Invalid ID or token sent. Got ID of 0'],
    ['{"id":"-5","token":"secret"}', 'Invalid ID or token sent. Got ID of -5'],
    ['{"id":"7","token":""}', 'Invalid ID or token sent. Got ID of 7'],
  ])('%s → invalid_payload %j', (text, detail) => {
    expect(parseIdentify(text)).toEqual(either.left(detail))
  })

  it.each([
    ['{"id":"811073947382579200","token":"t","bot":true,"send_all":true}', { kind: 'bot', id: '811073947382579200', token: 't', sendAll: true, sendNone: false }],
    ['{"id":"5","token":"t"}', { kind: 'server', id: '5', token: 't', sendAll: false, sendNone: false }],
    // Go matches keys case-insensitively, ignores unknown keys and leaves null fields unset.
    ['{"ID":"+05","Token":"t","BOT":true,"send_none":null,"extra":[1]}', { kind: 'bot', id: '5', token: 't', sendAll: false, sendNone: false }],
  ])('%s → %j', (text, request) => {
    expect(parseIdentify(text)).toEqual(either.right(request))
  })

  it('never puts the token in a detail', () => {
    for (const text of ['{"id":"0","token":"s3cret"}', '{"id":"-1","token":"s3cret"}', '{"id":"x","token":"s3cret"}']) {
      const result = parseIdentify(text)
      expect(either.isLeft(result) && result.left.includes('s3cret')).toBe(false)
    }
  })
})

describe('parseIdentify with positions: after', () => {
  const base = { kind: 'bot', id: '5', token: 't', sendAll: true, sendNone: false }
  const identify = (after: string): string => `{"id":"5","token":"t","bot":true,"send_all":true,"after":${after}}`

  it.each([
    ['{"bot-5":"k3:7"}', { ...base, after: { 'bot-5': { epoch: 'k3', offset: 7 } } }],
    ['{"bot-5":"k3:7","global":"k3:2"}', { ...base, after: { 'bot-5': { epoch: 'k3', offset: 7 }, global: { epoch: 'k3', offset: 2 } } }],
    ['{}', { ...base, after: {} }],
    ['null', base],
  ])('after %s → %j', (after, request) => {
    expect(parseIdentify(identify(after), true)).toEqual(either.right(request))
  })

  it.each([
    ['"k3:7"', AfterError.shape],
    ['["k3:7"]', AfterError.shape],
    ['7', AfterError.shape],
    ['true', AfterError.shape],
    ['{"bot-5":"k3:7","global":"k3:2","server-5":"k3:1"}', AfterError.size],
    ['{"server-5":"k3:7"}', AfterError.channel],
    ['{"bot-6":"k3:7"}', AfterError.channel],
    ['{"__proto__":"k3:7"}', AfterError.channel],
    ['{"Global":"k3:7"}', AfterError.channel],
    ['{"bot-5":7}', AfterError.position],
    ['{"bot-5":"k3:0"}', AfterError.position],
    ['{"bot-5":"k3:1e3"}', AfterError.position],
    ['{"bot-5":"k3:99999999999999999"}', AfterError.position],
    [`{"bot-5":"${'k'.repeat(17)}:1"}`, AfterError.position],
    ['{"bot-5":null}', AfterError.position],
    ['{"bot-5":{"epoch":"k3","offset":7}}', AfterError.position],
  ])('after %s → invalid_payload %j', (after, detail) => {
    expect(parseIdentify(identify(after), true)).toEqual(either.left(detail))
  })

  it('reports the original’s errors first, and never echoes what after held', () => {
    expect(parseIdentify('{"id":"0","token":"t","after":"s3cret"}', true)).toEqual(either.left('Invalid ID or token sent. Got ID of 0'))
    for (const detail of Object.values(AfterError)) expect(detail).not.toMatch(/s3cret|k3/)
  })

  it('without positions, ignores after as the original did (its json.Unmarshal skips unknown keys)', () => {
    for (const after of ['"junk"', '{"bot-6":7}', '{"bot-5":"k3:7"}']) {
      expect(parseIdentify(identify(after))).toEqual(either.right(base))
    }
  })
})

describe('goAtoi', () => {
  it.each([
    ['9223372036854775807', either.right(9223372036854775807n)],
    ['-9223372036854775808', either.right(-9223372036854775808n)],
    ['9223372036854775808', either.left('strconv.Atoi: parsing "9223372036854775808": value out of range')],
    ['1_000', either.left('strconv.Atoi: parsing "1_000": invalid syntax')],
    [' 1', either.left('strconv.Atoi: parsing " 1": invalid syntax')],
  ])('%j', (text, expected) => {
    expect(goAtoi(text)).toEqual(expected)
  })
})
