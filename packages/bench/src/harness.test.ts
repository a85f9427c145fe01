import { afterEach, describe, expect, it, vi } from 'vitest'
import { type Contender, formatTable, interleave, toRow } from './harness.js'

function recorder(name: string, log: string[], items = 100): Contender {
  return {
    name,
    run(part, parts) {
      log.push(`${name}:${part}/${parts}`)
      return items
    },
  }
}

describe('interleave', () => {
  it('runs every contender on every part of every round, rotating who goes first', () => {
    const log: string[] = []
    const measured = interleave(recorder('a', log), [recorder('b', log), recorder('c', log)], { rounds: 2, warmup: 1, parts: 3 })
    expect(log).toHaveLength(3 * 3 * 3)
    for (const name of ['a', 'b', 'c']) {
      expect(log.filter((entry) => entry.startsWith(`${name}:`))).toHaveLength(9)
      for (const part of [0, 1, 2]) expect(log).toContain(`${name}:${part}/3`)
    }
    const firsts = new Set([0, 3, 6, 9, 12, 15, 18, 21, 24].map((i) => log[i]?.split(':')[0]))
    expect(firsts).toEqual(new Set(['a', 'b', 'c']))
    // Only measured rounds are kept: 2 rounds × 3 parts.
    expect(measured.map((m) => m.rates.length)).toEqual([6, 6, 6])
    expect(measured[0]?.ratios.every((r) => r === 1)).toBe(true)
  })

  it('pairs each ratio with the baseline run of the same part', () => {
    const slow: Contender = {
      name: 'slow',
      run() {
        const until = process.hrtime.bigint() + 2_000_000n
        while (process.hrtime.bigint() < until);
        return 100
      },
    }
    const fast: Contender = { name: 'fast', run: () => 100 }
    const [base, other] = interleave(slow, [fast], { rounds: 2, warmup: 0, parts: 2 })
    expect(base?.ratios).toEqual([1, 1, 1, 1])
    expect(other?.ratios.every((r) => r > 1)).toBe(true)
  })
})

describe('interleave collects before every run', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })

  it('the young generation by default, the whole heap when asked, and nothing without --expose-gc', () => {
    const gc = vi.fn()
    vi.stubGlobal('gc', gc)
    const log: string[] = []
    // Each run sees the collection made just before it.
    const seen = (name: string): Contender => ({ name, run: () => (log.push(`${name} after ${JSON.stringify(gc.mock.calls.at(-1))}`), 1) })
    interleave(seen('a'), [seen('b')], { rounds: 1, warmup: 0, parts: 2 })
    expect(gc).toHaveBeenCalledTimes(4)
    expect(new Set(log.map((entry) => entry.split(' after ')[1]))).toEqual(new Set(['[{"type":"minor"}]']))
    gc.mockClear()
    interleave(seen('a'), [seen('b')], { rounds: 1, warmup: 0, parts: 2, collect: 'full' })
    expect(gc.mock.calls).toEqual([[], [], [], []])
    vi.stubGlobal('gc', undefined)
    expect(() => interleave(seen('a'), [seen('b')], { rounds: 1, warmup: 0, parts: 1 })).not.toThrow()
  })
})

describe('toRow and formatTable', () => {
  it('reports the median paired ratio and whether a target was met', () => {
    const row = toRow({ name: 'x', rates: [10, 30, 20], ratios: [0.5, 0.9, 0.7] }, 'base', { perFrame: 10 }, { target: { text: '≥ 70%', threshold: 0.7 } })
    expect(row).toMatchObject({ name: 'x', eventsPerSecond: 20, ratio: 0.7, baseline: 'base', target: { met: true } })
    const table = formatTable([row, toRow({ name: 'base', rates: [30], ratios: [1] }, undefined, {})])
    expect(table.split('\n')).toHaveLength(4)
    expect(table).toContain('70.0%')
    expect(table).toContain('MET (≥ 70%)')
  })
})
