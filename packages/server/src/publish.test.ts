import { describe, expect, it } from 'vitest'
import { nestedDeeperThan, PublishLimits } from './publish.js'

const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf
  for (let n = 0; n < depth; n++) value = n % 2 === 0 ? [value] : { a: value }
  return value
}

describe('nestedDeeperThan', () => {
  it.each([
    [1, 0, false],
    [{}, 1, false],
    [{}, 0, true],
    [nested(PublishLimits.maxDepth), PublishLimits.maxDepth, false],
    [nested(PublishLimits.maxDepth + 1), PublishLimits.maxDepth, true],
    [{ shallow: 1, deep: nested(40) }, PublishLimits.maxDepth, true],
    [[1, 'x', null, [[]]], 3, false],
    [[1, 'x', null, [[]]], 2, true],
  ])('%j deeper than %i: %s', (value, limit, expected) => {
    expect(nestedDeeperThan(value, limit)).toBe(expected)
  })

  it('stops at the limit, so a million levels cost no more stack than the limit', () => {
    expect(nestedDeeperThan(nested(1_000_000), PublishLimits.maxDepth)).toBe(true)
  })
})
