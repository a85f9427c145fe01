import { describe, expect, it } from 'vitest'
import { connect } from './connection/connect.js'
import { AfterLimits } from '../codec/position.js'
import { Protocol } from '../protocol/limits.js'
import { type ConnectOptions, ConnectOptionsError, identifyMessage, resolveOptions } from './options.js'

const token = 'sekrit-token-value'
const good: ConnectOptions = { url: 'ws://127.0.0.1:1/ws', id: '811073947382579200', token }

describe('connect() options', () => {
  it.each<[string, Partial<Record<keyof ConnectOptions, unknown>>, RegExp]>([
    ['a numeric id', { id: 811073947382579200 }, /id must be a Discord snowflake as a decimal string/],
    ['a non-decimal id', { id: 'abc' }, /id must be a Discord snowflake/],
    ['a zero id', { id: '0' }, /id must be a Discord snowflake/],
    ['a negative id', { id: '-5' }, /id must be a Discord snowflake/],
    ['an id over 64 bits', { id: '18446744073709551616' }, /id must be a Discord snowflake/],
    ['an id just over int64, which the server answers with invalid_payload', { id: '9223372036854775808' }, /id must be a Discord snowflake/],
    ['an id with a leading zero', { id: '0811073947382579200' }, /id must be a Discord snowflake/],
    ['an id with a sign', { id: '+811073947382579200' }, /id must be a Discord snowflake/],
    ['an empty token', { token: '' }, /token must not be empty/],
    ['a numeric token', { token: 42 }, /token must be a string/],
    ['an http url', { url: 'http://example.test/ws' }, /url must use ws: or wss:/],
    ['a broken url', { url: 'not a url' }, /url is not a valid URL/],
    ['the token in the url', { url: `wss://example.test/ws?token=${token}` }, /url must not contain the token/],
    ['the token as the url scheme', { url: `${token}:x` }, /url must not contain the token/],
    // The URL parser lowercases a scheme and drops tabs and newlines from it: the literal check
    // misses these, and the scheme must then not be quoted.
    ['the token upper-cased as the url scheme', { url: `${token.toUpperCase()}:x` }, /url must use ws: or wss:/],
    ['the token with a tab in it as the url scheme', { url: `${token.slice(0, 6)}\t${token.slice(6)}:x` }, /url must use ws: or wss:/],
    ['sendNone without sendAll', { sendNone: true }, /sendNone without sendAll would receive no events/],
    ['a non-boolean bot', { bot: 'yes' }, /bot must be a boolean/],
    ['a negative timeout', { identityTimeoutMs: -1 }, /identityTimeoutMs must be at least 1 and below 2\*\*31/],
    ['a zero identity timeout (every handshake timed out at once)', { identityTimeoutMs: 0 }, /identityTimeoutMs must be at least 1 and below 2\*\*31/],
    ['a zero ready timeout', { readyTimeoutMs: 0 }, /readyTimeoutMs must be at least 1 and below 2\*\*31/],
    ['a fractional dedupe capacity', { dedupeCapacity: 1.5 }, /dedupeCapacity must be a positive integer/],
    ['a backoff factor below 1', { backoff: { factor: 0.5 } }, /backoff.factor must be at least 1/],
    ['an infinite backoff factor', { backoff: { factor: Number.POSITIVE_INFINITY } }, /backoff.factor must be at least 1 and below 2\*\*31/],
    ['a NaN timeout', { readyTimeoutMs: Number.NaN }, /readyTimeoutMs must be at least 1 and below 2\*\*31/],
    ['a NaN liveness timeout', { livenessTimeoutMs: Number.NaN }, /livenessTimeoutMs must be a non-negative number below 2\*\*31/],
    ['a negative maxAttempts', { backoff: { maxAttempts: -1 } }, /backoff.maxAttempts must be a non-negative number/],
    ['a non-function random', { random: 0.5 }, /random must be a function/],
    ['a non-constructor WebSocket', { WebSocket: {} }, /WebSocket must be a WebSocket constructor/],
    ['a token too long to identify with', { token: 'x'.repeat(5000) }, /identify message would be \d+ bytes/],
    ['a numeric url', { url: 42 }, /url must be a string \(got a number\)/],
    ['a numeric timeout as text', { identityTimeoutMs: '5' }, /identityTimeoutMs must be at least 1 and below 2\*\*31/],
    ['an infinite timeout', { identityTimeoutMs: Number.POSITIVE_INFINITY }, /identityTimeoutMs must be at least 1 and below 2\*\*31/],
    // setTimeout runs a delay past 2**31 - 1 ms at once (Node warns and uses 1 ms; browsers
    // wrap it): such a timeout would fire immediately, not late.
    ['an identity timeout setTimeout cannot hold', { identityTimeoutMs: 2 ** 31 }, /identityTimeoutMs must be at least 1 and below 2\*\*31/],
    ['a replay timeout setTimeout cannot hold', { replayTimeoutMs: Number.MAX_SAFE_INTEGER }, /replayTimeoutMs must be a non-negative number below 2\*\*31/],
    ['a backoff delay setTimeout cannot hold', { backoff: { maxDelayMs: 2 ** 40 } }, /backoff.maxDelayMs must be a non-negative number below 2\*\*31/],
    ['a backoff factor as text', { backoff: { factor: '2' } }, /backoff.factor must be at least 1 and below 2\*\*31/],
    ['maxAttempts as text', { backoff: { maxAttempts: '5' } }, /backoff.maxAttempts must be a non-negative number/],
    ['shareAcrossTabs as a string', { shareAcrossTabs: 'yes' }, /shareAcrossTabs must be a boolean, an object with locks/],
    ['shareAcrossTabs as null', { shareAcrossTabs: null }, /shareAcrossTabs must be a boolean, an object with locks/],
    ['shareAcrossTabs with neither locks nor a worker', { shareAcrossTabs: {} }, /shareAcrossTabs must be a boolean, an object with locks/],
    ['shareAcrossTabs with locks but no BroadcastChannel', { shareAcrossTabs: { locks: { request: () => undefined } } }, /shareAcrossTabs must be a boolean/],
    ['shareAcrossTabs with a BroadcastChannel but no locks', { shareAcrossTabs: { BroadcastChannel: class {} } }, /shareAcrossTabs must be a boolean/],
  ])('rejects %s at the call, without the token in the message', (_what, patch, message) => {
    const options = { ...good, ...patch } as ConnectOptions
    expect(() => connect(options)).toThrow(ConnectOptionsError)
    expect(() => connect(options)).toThrow(message)
    try {
      connect(options)
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(token)
      expect(String((error as Error).message)).not.toContain('xxxxxxxx')
    }
  })

  // With persist or shareAcrossTabs the eid memory is made only once a chunk has loaded, where
  // its RangeError reached no caller: the options' table checks the bound at the call.
  it.each<[string, Partial<ConnectOptions>]>([
    ['alone', {}],
    ['with persist', { persist: { getItem: () => null, setItem: () => {} } }],
    ['with shareAcrossTabs', { shareAcrossTabs: true }],
  ])('refuses at the call a dedupe capacity no memory can hold (2**31 aborted the process), %s', (_how, extra) => {
    expect(() => connect({ ...good, ...extra, dedupeCapacity: 2 ** 31 })).toThrow(new ConnectOptionsError('connect(): dedupeCapacity must be a positive integer up to 2**20'))
    expect(() => connect({ ...good, ...extra, dedupeCapacity: 2 ** 20 + 1 })).toThrow(ConnectOptionsError)
  })

  it('accepts sendNone with sendAll, and functions read per attempt', () => {
    expect(() => connect({ ...good, sendAll: true, sendNone: true })).not.toThrow()
    expect(() => connect({ url: () => good.url as string, id: () => '1', token: () => token })).not.toThrow()
    expect(() => connect({ ...good, backoff: { maxAttempts: Number.POSITIVE_INFINITY } })).not.toThrow()
    expect(() => connect({ ...good, identityTimeoutMs: 2 ** 31 - 1, backoff: { maxDelayMs: 2 ** 31 - 1 } })).not.toThrow()
  })

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'wss://example.test/ws'],
    ['nothing', undefined],
  ])('rejects %s as the options, with a ConnectOptionsError named so', (_what, options) => {
    expect(() => connect(options as ConnectOptions)).toThrow('connect(): options must be an object with url, id and token')
    try {
      connect(options as ConnectOptions)
    } catch (error) {
      expect(error).toBeInstanceOf(ConnectOptionsError)
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).name).toBe('ConnectOptionsError')
    }
  })

  it('accepts a wss: url, a backoff factor of exactly 1, and either way of sharing across tabs', () => {
    expect(() => connect({ ...good, url: 'wss://example.test/ws' })).not.toThrow()
    expect(() => connect({ ...good, backoff: { factor: 1 } })).not.toThrow()
    expect(() => connect({ ...good, shareAcrossTabs: { locks: { request: () => undefined }, BroadcastChannel: class {} } as never })).not.toThrow()
    expect(() => connect({ ...good, shareAcrossTabs: { worker: () => undefined } as never })).not.toThrow()
  })

  it('checks the identify size at the limit: counted with the room `after` may take, up to 4096 bytes and not one more', () => {
    // The longest token that still fits: the identify, plus `after` at its largest, plus the ID
    // (the channel names inside `after` repeat it), is exactly the server's limit.
    const base = identifyMessage(good.id as string, '', resolveOptions(good)).length + AfterLimits.maxBytes + (good.id as string).length
    const fits = 'x'.repeat(Protocol.maxMessageBytes - base)
    expect(() => connect({ ...good, token: fits })).not.toThrow()
    expect(() => connect({ ...good, token: `${fits}x` })).toThrow(`the identify message would be ${Protocol.maxMessageBytes + 1} bytes`)
  })

  it('fills in the documented defaults', () => {
    expect(resolveOptions(good)).toMatchObject({
      bot: true,
      sendAll: false,
      sendNone: false,
      orderReplay: true,
      dedupeCapacity: 10_000,
      livenessTimeoutMs: 0,
      backoff: { initialDelayMs: 500, factor: 2, maxDelayMs: 30_000, maxAttempts: Number.POSITIVE_INFINITY, resetAfterMs: 10_000 },
    })
  })

  it('writes the identify message with exactly the protocol keys, in order', () => {
    expect(identifyMessage('1', 't', { bot: false, sendAll: true, sendNone: false })).toBe(
      '{"id":"1","token":"t","bot":false,"send_all":true,"send_none":false}',
    )
  })
})
