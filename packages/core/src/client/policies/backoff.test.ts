import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { backoffDelay, BackoffDefaults } from './backoff.js'

describe('backoffDelay', () => {
  it.each([
    [1, 500],
    [2, 1000],
    [3, 2000],
    [6, 16_000],
    [7, 30_000],
    [50, 30_000],
  ])('attempt %i with the defaults: full jitter over [0, %i]', (attempt, cap) => {
    expect(backoffDelay(attempt, BackoffDefaults, () => 0)).toBe(0)
    expect(backoffDelay(attempt, BackoffDefaults, () => 0.999_999)).toBe(Math.floor(0.999_999 * cap))
  })

  // Attempts count from 1; an attempt below that (none made yet) gets the first cap, not less.
  it.each([0, -3])('attempt %i waits as the first one does', (attempt) => {
    expect(backoffDelay(attempt, BackoffDefaults, () => 0.5)).toBe(250)
  })

  // factor ** attempts overflows to Infinity long before attempts run out; with no initial
  // delay the answer must stay 0, not 0 × Infinity = NaN.
  it('with no initial delay waits 0 at any attempt, however far the factor has grown', () => {
    const config = { ...BackoffDefaults, initialDelayMs: 0, factor: 10 }
    expect(10 ** 5000).toBe(Infinity)
    expect(backoffDelay(5001, config, () => 0.5)).toBe(0)
  })

  it('every delay is within [0, cap] for any attempt and configuration (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialDelayMs, factor, maxDelayMs, r) => {
          const config = { ...BackoffDefaults, initialDelayMs, factor, maxDelayMs }
          const delay = backoffDelay(attempt, config, () => r)
          expect(delay).toBeGreaterThanOrEqual(0)
          expect(delay).toBeLessThanOrEqual(initialDelayMs === 0 ? 0 : Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1)))
          expect(Number.isInteger(delay)).toBe(true)
        },
      ),
    )
  })
})
