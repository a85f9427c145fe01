import { describe, expect, it } from 'vitest'
import { identifyText } from './codecs.js'
import { AfterLimits, formatPosition, parsePosition, PositionLimits } from './position.js'

describe('parsePosition', () => {
  it.each([
    ['k3x9:42', { epoch: 'k3x9', offset: 42 }],
    ['A:1', { epoch: 'A', offset: 1 }],
    ['0123456789abcdef:9007199254740991', { epoch: '0123456789abcdef', offset: 9007199254740991 }],
  ])('%j → %j', (text, position) => {
    expect(parsePosition(text)).toEqual(position)
    expect(formatPosition(position)).toBe(text)
    expect(text.length).toBeLessThanOrEqual(PositionLimits.maxLength)
  })

  it.each([
    ['e:0'],
    ['e:01'],
    ['e:-1'],
    ['e:1.5'],
    ['e:9007199254740992'],
    ['e:99999999999999999'],
    [':1'],
    ['0123456789abcdefg:1'],
    ['e-1:1'],
    ['e:1 '],
    ['e:1\n'],
    ['e'],
    [''],
    [42],
    [null],
    [undefined],
    [{ epoch: 'e', offset: 1 }],
    [['e:1']],
    ['__proto__:1x'],
  ])('%j is no position', (value) => {
    expect(parsePosition(value)).toBeUndefined()
  })
})

describe('AfterLimits.maxBytes', () => {
  it('is what the longest after adds to an identify, beyond the ID', () => {
    const id = '9223372036854775807'
    const payload = { id, token: 't', bot: false, send_all: true, send_none: false }
    const most = '0'.repeat(PositionLimits.maxLength)
    const grown = identifyText(payload, { [`server-${id}`]: most, global: most }).length - identifyText(payload).length
    expect(grown).toBe(AfterLimits.maxBytes + id.length)
  })
})
