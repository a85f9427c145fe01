import { describe, expect, it } from 'vitest'
import { either } from 'fp-ts'
import { nestedDeeperThan, normalizePublish, PublishLimits } from './publish.js'

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

describe('normalizePublish for a relay (checkContext: false)', () => {
  const vote = { m: { e: 0, eid: 'e-1', ts: 1 }, ctx: { user: '1', votes: 'lots' } }

  it('refuses a ctx that does not fit its event by default, and passes it on for a relay, eid and ts kept', () => {
    expect(either.isLeft(normalizePublish('bot-42', vote))).toBe(true)
    expect(normalizePublish('bot-42', vote, Date.now, () => 'new', false)).toEqual(either.right({ eid: 'e-1', event: vote }))
  })

  it('still refuses what no client could decode', () => {
    expect(either.isLeft(normalizePublish('bot-42', { m: { e: 'x' }, ctx: {} }, Date.now, () => 'new', false))).toBe(true)
  })
})

describe('normalizePublish stamps eid and ts', () => {
  const now = (): number => 1_700_000_000_500
  it.each([
    ['both missing', { e: 0, t: -1 }, { e: 0, t: -1, eid: 'new', ts: 1_700_000_000.5 }],
    ['both given', { e: 0, eid: 'e-1', ts: 1_600_000_000 }, { e: 0, eid: 'e-1', ts: 1_600_000_000 }],
    // In-process only (JSON has no undefined): a spread must not put the undefined back.
    ['both given as undefined', { e: 0, eid: undefined, ts: undefined }, { e: 0, eid: 'new', ts: 1_700_000_000.5 }],
    ['eid given as undefined', { e: 0, eid: undefined, ts: 1_600_000_000 }, { e: 0, eid: 'new', ts: 1_600_000_000 }],
  ])('%s', (_what, m, expected) => {
    const event = { m, ctx: { user: '1', votes: 1 }, extra: true }
    const normalized = normalizePublish('bot-42', event, now, () => 'new')
    expect(normalized).toEqual(either.right({ eid: expected.eid, event: { m: expected, ctx: { user: '1', votes: 1 }, extra: true } }))
    // The producer's object is left as it was.
    expect(event.m).toBe(m)
  })
})
