import { describe, expect, it } from 'vitest'
import { MaxSnowflakeId, SnowflakeId, SnowflakeRule } from './codecs.js'
import { ConnectOptionsError, resolveOptions } from '../client/options.js'

// One definition per wire fact (STYLE §13): the bound and its words live in codecs.ts, and every
// error about an ID quotes them. The server's and the dashboard's texts are checked beside them.
describe('the snowflake rule, defined once', () => {
  it('states the bound it checks', () => {
    expect(SnowflakeRule).toContain(String(MaxSnowflakeId))
  })

  it("is the codec's failure text", () => {
    const result = SnowflakeId.decode('0')
    expect(result._tag).toBe('Left')
    if (result._tag === 'Left') expect(result.left[0]?.message).toBe(SnowflakeRule)
  })

  it("is what connect()'s option error says", () => {
    expect(() => resolveOptions({ url: 'ws://127.0.0.1:1/ws', id: '9223372036854775808', token: 't' })).toThrow(ConnectOptionsError)
    expect(() => resolveOptions({ url: 'ws://127.0.0.1:1/ws', id: '9223372036854775808', token: 't' })).toThrow(SnowflakeRule)
  })
})
