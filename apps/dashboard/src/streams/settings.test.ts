import { describe, expect, it } from 'vitest'
import { SnowflakeRule } from '@fates-rx/core/protocol'
import { settingsError, type TargetSettings } from './settings.js'

const good: TargetSettings = {
  url: 'ws://127.0.0.1:8787/ws',
  kind: 'bot',
  id: '811073947382579200',
  token: 'secret-token',
  sendAll: false,
  sendNone: false,
}

describe('settingsError', () => {
  it('accepts a well-formed target', () => {
    expect(settingsError(good)).toBeUndefined()
    expect(settingsError({ ...good, url: 'wss://api.fateslist.xyz/api/dragon/ws/' })).toBeUndefined()
  })

  it.each([
    ['a non-URL', { url: 'not a url' }, /not a URL/],
    ['an http URL', { url: 'http://127.0.0.1/ws' }, /ws:\/\/ or wss:\/\//],
    ['credentials in the URL', { url: 'ws://user:pw@127.0.0.1/ws' }, /no credentials or query/],
    ['a query in the URL', { url: 'ws://127.0.0.1/ws?token=x' }, /no credentials or query/],
    ['a non-numeric ID', { id: '81107abc' }, /snowflake/],
    ['a zero ID', { id: '000' }, /snowflake/],
    ['an ID with a leading zero, which the server would not find', { id: '0811073947382579200' }, /snowflake/],
    ['an ID beyond int64, which the server answers with invalid_payload', { id: '9223372036854775808' }, /snowflake/],
    ['an empty token', { token: '' }, /token/],
  ])('rejects %s, in words', (_label, change, message) => {
    expect(settingsError({ ...good, ...change })).toMatch(message)
  })

  // A browser's WebSocket constructor throws on any fragment, even an empty one (Chromium: "The
  // URL contains a fragment identifier"): accepted here, the panel would reconnect on 1006
  // forever instead of saying what is wrong.
  it.each(['ws://127.0.0.1:8787/ws#live', 'ws://127.0.0.1:8787/ws#'])('rejects a URL with a fragment, %s, in words', (url) => {
    expect(settingsError({ ...good, url })).toMatch(/#/)
  })

  it("words a bad ID with core's one snowflake rule", () => {
    expect(settingsError({ ...good, id: '9223372036854775808' })).toContain(SnowflakeRule)
  })

  it('never echoes the token', () => {
    for (const change of [{ url: 'x' }, { id: 'y' }, { url: 'ws://a/?secret-token' }]) {
      expect(settingsError({ ...good, ...change }) ?? '').not.toContain('secret-token')
    }
  })
})
