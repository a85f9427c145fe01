import { describe, expect, it } from 'vitest'
import { median, quantile, Samples } from './stats.js'

describe('quantile', () => {
  it.each([
    [[3, 1, 2], 0.5, 2],
    [[4, 1, 3, 2], 0.5, 2.5],
    [[1, 2, 3, 4, 5], 0, 1],
    [[1, 2, 3, 4, 5], 1, 5],
    [[0, 10], 0.99, 9.9],
  ])('of %j at %f is %f', (samples, q, expected) => {
    expect(quantile(samples, q)).toBeCloseTo(expected, 9)
  })

  it('refuses no samples and a q outside [0, 1]', () => {
    expect(() => median([])).toThrow(RangeError)
    expect(() => quantile([1], 1.5)).toThrow(RangeError)
  })
})

describe('Samples', () => {
  it('keeps the latest values in a ring and reports their percentiles', () => {
    const s = new Samples(100)
    for (let i = 1; i <= 150; i++) s.add(i)
    expect(s.count).toBe(150)
    expect(s.quantile(0)).toBe(51)
    expect(s.quantile(1)).toBe(150)
    expect(s.quantile(0.5)).toBeCloseTo(100.5, 9)
  })
})
