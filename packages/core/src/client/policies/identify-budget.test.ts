import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { afterIdentify, afterRatelimited, afterReport, type IdentifyBudget, identifyWait } from './identify-budget.js'
import { mergeLedgers } from '../persist/persist-machine.js'

const config = { windowMs: 420_000, minSpacingMs: 0 }

describe('the identify budget', () => {
  it('lets a fresh client identify at once and starts the window at its first identify', () => {
    expect(identifyWait({}, 0, config)).toEqual({ waitMs: 0 })
    // Strict: a budget without a cooldown has no cooldownUntil key at all.
    expect(afterIdentify({}, 1000, config)).toStrictEqual({ windowStart: 1000, remaining: 18, lastIdentifyAt: 1000 })
    // A later identify in the same window keeps the window where it started.
    expect(afterIdentify(afterIdentify({}, 1000, config), 2000, config)).toStrictEqual({
      windowStart: 1000,
      remaining: 16,
      lastIdentifyAt: 2000,
    })
  })

  it.each([
    [2, 0],
    [1, 420_000 - 5000],
    [0, 420_000 - 5000],
    [-2, 420_000 - 5000],
  ])('with %i requests left it waits %i ms (the rest of the window)', (remaining, wait) => {
    const budget = afterReport(afterIdentify({}, 0, config), remaining)
    expect(identifyWait(budget, 5000, config).waitMs).toBe(wait)
    if (wait > 0) expect(identifyWait(budget, 5000, config).reason).toMatch(/requests left/)
  })

  it('starts a new window once the old one has passed', () => {
    const budget = afterReport(afterIdentify({}, 0, config), 0)
    expect(identifyWait(budget, 420_000, config).waitMs).toBe(0)
    expect(afterIdentify(budget, 420_000, config)).toMatchObject({ windowStart: 420_000, remaining: 18 })
  })

  it('counts identifies within a window by itself until the server reports', () => {
    let budget: IdentifyBudget = {}
    for (let i = 0; i < 10; i++) {
      expect(identifyWait(budget, i, config).waitMs).toBe(0)
      budget = afterIdentify(budget, i, config)
    }
    expect(budget.remaining).toBe(0)
    expect(identifyWait(budget, 10, config).waitMs).toBe(420_000 - 10)
  })

  it('after a 4012 waits out the window of its first identify, or a whole window if it made none', () => {
    const identified = afterRatelimited(afterIdentify({}, 1000, config), 2000, config)
    expect(identifyWait(identified, 2000, config)).toMatchObject({ waitMs: 419_000, reason: expect.stringMatching(/4012/) })
    const stranger = afterRatelimited({}, 2000, config)
    expect(identifyWait(stranger, 2000, config).waitMs).toBe(420_000)
  })

  // A 4012 cooldown must end: at its last instant the client still waits, from then on it may
  // identify (the window it waited out has passed, so the old count no longer holds).
  it.each([
    ['the client identified in the window', afterIdentify({}, 1000, config), 2000, 421_000],
    ['another client spent the window', {}, 2000, 422_000],
  ])('after a 4012 when %s, waits until the cooldown ends and not longer', (_who, before, at, until) => {
    const cooled = afterRatelimited(before, at, config)
    expect(cooled).toMatchObject({ remaining: 0, cooldownUntil: until })
    expect(identifyWait(cooled, until - 1, config)).toMatchObject({ waitMs: 1, reason: expect.stringMatching(/4012/) })
    expect(identifyWait(cooled, until, config)).toEqual({ waitMs: 0 })
    expect(afterIdentify(cooled, until, config)).toMatchObject({ windowStart: until, remaining: 18 })
  })

  it('after a 4012 counts nothing left in the window, even if the last report said more', () => {
    const reported = afterReport(afterIdentify({}, 0, config), 12)
    expect(afterRatelimited(reported, 1000, config)).toEqual({
      windowStart: 0,
      remaining: 0,
      lastIdentifyAt: 0,
      cooldownUntil: 420_000,
    })
    // A negative report stays as the server said it.
    expect(afterRatelimited(afterReport({}, -4), 1000, config).remaining).toBe(-4)
  })

  it('does not lift a 4012 cooldown by identifying (only time does)', () => {
    const cooled = afterRatelimited({}, 0, config)
    const identified = afterIdentify(cooled, 5000, config)
    expect(identified.cooldownUntil).toBe(420_000)
    expect(identifyWait(identified, 6000, config).waitMs).toBe(414_000)
  })

  it('uses the rate limit as the count when a window is open and no count is known', () => {
    expect(afterIdentify({ windowStart: 0 }, 1000, config)).toEqual({ windowStart: 0, remaining: 18, lastIdentifyAt: 1000 })
    expect(afterIdentify({ windowStart: 0, remaining: 6 }, 1000, config).remaining).toBe(4)
  })

  it('waits for the window only while it is open, from the start of the window', () => {
    const spent = { windowStart: 1000, remaining: 0 }
    expect(identifyWait(spent, 1000 + 420_000 - 1, config)).toMatchObject({ waitMs: 1 })
    expect(identifyWait(spent, 1000 + 420_000, config)).toEqual({ waitMs: 0 })
    expect(identifyWait({ remaining: 0 }, 5000, config)).toEqual({ waitMs: 0 })
    expect(identifyWait(spent, 2000, config).reason).toBe(
      '0 requests left in the ratelimit window and an identify costs 2: waiting for the window to pass.',
    )
  })

  it('without a minimum spacing never waits for spacing, even when the clock steps back', () => {
    const budget = afterIdentify({}, 10_000, config)
    expect(identifyWait(budget, 9000, config)).toEqual({ waitMs: 0 })
  })

  it('keeps the optional minimum spacing between identifies', () => {
    const spaced = { windowMs: 420_000, minSpacingMs: 65_000 }
    const budget = afterIdentify({}, 0, spaced)
    expect(identifyWait(budget, 10_000, spaced)).toEqual({ waitMs: 55_000, reason: 'Keeping 65000 ms between identifies.' })
    expect(identifyWait(budget, 65_000, spaced)).toEqual({ waitMs: 0 })
    expect(identifyWait(budget, 70_000, spaced)).toEqual({ waitMs: 0 })
  })

  it('never lets identifies cost more than the server allows in a window (property)', () => {
    // Whatever the timing, a client that follows identifyWait spends at most 20 per window.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 60 }), (gaps) => {
        let budget: IdentifyBudget = {}
        let now = 0
        const identifies: number[] = []
        for (const gap of gaps) {
          now += gap
          const wait = identifyWait(budget, now, config).waitMs
          now += wait
          budget = afterIdentify(budget, now, config)
          identifies.push(now)
        }
        let start = identifies[0] as number
        let cost = 0
        for (const at of identifies) {
          if (at >= start + config.windowMs) {
            start = at
            cost = 0
          }
          cost += 2
          expect(cost).toBeLessThanOrEqual(20)
        }
      }),
    )
  })

  describe('merging a stored ledger', () => {
    const now = 100_000
    it.each<[string, IdentifyBudget, IdentifyBudget, IdentifyBudget]>([
      ['nothing known', {}, {}, {}],
      ['only the stored window is open', {}, { windowStart: 10_000, remaining: 4, lastIdentifyAt: 90_000 }, { windowStart: 10_000, remaining: 4, lastIdentifyAt: 90_000 }],
      ['only mine is open', { windowStart: 10_000, remaining: 6 }, { windowStart: now - 420_000, remaining: 0 }, { windowStart: 10_000, remaining: 6 }],
      ['both open: the earlier start, the fewer left', { windowStart: 20_000, remaining: 6 }, { windowStart: 10_000, remaining: 8 }, { windowStart: 10_000, remaining: 6 }],
      ['both open, one count unknown: the known one', { windowStart: 20_000 }, { windowStart: 10_000, remaining: 8 }, { windowStart: 10_000, remaining: 8 }],
      ['both open, the stored one spent more', { windowStart: 20_000, remaining: 8 }, { windowStart: 10_000, remaining: 0 }, { windowStart: 10_000, remaining: 0 }],
      ['both open, only mine known: mine', { windowStart: 20_000, remaining: 6 }, { windowStart: 10_000 }, { windowStart: 10_000, remaining: 6 }],
      ['only mine identified', { lastIdentifyAt: 5 }, {}, { lastIdentifyAt: 5 }],
      ['both open, both unknown: still unknown (a full window)', { windowStart: 20_000 }, { windowStart: 10_000 }, { windowStart: 10_000 }],
      ['the later identify and the longer cooldown', { lastIdentifyAt: 5, cooldownUntil: now + 5 }, { lastIdentifyAt: 7, cooldownUntil: now + 9 }, { lastIdentifyAt: 7, cooldownUntil: now + 9 }],
      ['a cooldown that has passed is dropped', { cooldownUntil: now }, { cooldownUntil: now - 1 }, {}],
      ['a window that has passed is forgotten on both sides', { windowStart: now - 420_000, remaining: 0 }, { windowStart: now - 500_000, remaining: 2 }, {}],
    ])('%s', (_case, mine, stored, merged) => {
      expect(mergeLedgers(mine, stored, now, config)).toStrictEqual(merged)
      // Whichever spent more wins, whichever side it is on.
      expect(identifyWait(mergeLedgers(stored, mine, now, config), now, config)).toEqual(identifyWait(merged, now, config))
    })
  })
})
