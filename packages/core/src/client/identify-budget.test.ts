import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { afterIdentify, afterRatelimited, afterReport, type IdentifyBudget, identifyWait } from './identify-budget.js'

const config = { windowMs: 420_000, minSpacingMs: 0 }

describe('the identify budget', () => {
  it('lets a fresh client identify at once and starts the window at its first identify', () => {
    expect(identifyWait({}, 0, config)).toEqual({ waitMs: 0 })
    expect(afterIdentify({}, 1000, config)).toEqual({ windowStart: 1000, remaining: 18, lastIdentifyAt: 1000 })
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

  it('keeps the optional minimum spacing between identifies', () => {
    const spaced = { windowMs: 420_000, minSpacingMs: 65_000 }
    const budget = afterIdentify({}, 0, spaced)
    expect(identifyWait(budget, 10_000, spaced)).toEqual({ waitMs: 55_000, reason: 'Keeping 65000 ms between identifies.' })
    expect(identifyWait(budget, 65_000, spaced).waitMs).toBe(0)
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
})
