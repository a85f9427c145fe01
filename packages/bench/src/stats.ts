/**
 * Small statistics for the harness: medians and percentiles over samples.
 *
 * @packageDocumentation
 */

/** The q-quantile (0 ≤ q ≤ 1) of the samples, by linear interpolation between closest ranks. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('quantile of no samples')
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`)
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const lo = Math.floor(at)
  const hi = Math.ceil(at)
  const a = sorted[lo] as number
  const b = sorted[hi] as number
  return a + (b - a) * (at - lo)
}

/** The median of the samples. */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5)
}

/** A fixed-size reservoir of latencies, for percentiles over a long run without storing all. */
export class Samples {
  private readonly values: Float64Array
  private length = 0

  /** @param capacity - the most samples kept. */
  constructor(capacity: number) {
    this.values = new Float64Array(capacity)
  }

  /** Adds one sample; past the capacity the oldest are overwritten (a ring). */
  add(value: number): void {
    this.values[this.length % this.values.length] = value
    this.length++
  }

  /** How many samples were added in total. */
  get count(): number {
    return this.length
  }

  /** The q-quantile of the samples kept. */
  quantile(q: number): number {
    const n = Math.min(this.length, this.values.length)
    const sorted = this.values.slice(0, n).sort()
    if (n === 0) throw new RangeError('quantile of no samples')
    const at = (n - 1) * q
    const lo = Math.floor(at)
    const hi = Math.ceil(at)
    return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo)
  }
}
