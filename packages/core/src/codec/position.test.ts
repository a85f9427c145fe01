import { describe, expect, it } from 'vitest'
import { formatPosition, laterPosition, parsePosition, PositionLimits } from './position.js'

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

describe('laterPosition', () => {
  it.each([
    [undefined, 'e:1', 'e:1'],
    ['e:1', 'e:2', 'e:2'],
    ['e:2', 'e:1', 'e:2'],
    ['e:2', 'e:2', 'e:2'],
    // A new life of the store: its offsets are the only ones that mean anything now.
    ['e:9', 'f:1', 'f:1'],
    ['e:9', 'junk', 'e:9'],
    ['e:9', undefined, 'e:9'],
    ['junk', 'e:1', 'e:1'],
  ])('later of %j and %j is %j', (a, b, later) => {
    expect(laterPosition(a, b)).toBe(later)
  })
})
