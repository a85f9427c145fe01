import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { Timestamps } from '../../protocol/index.js'
import { advance, markCeiling, MaxTiedEids, newer, readyMark, unseen, type Watermark } from './watermark.js'

const event = (eid: string, ts?: number): ReceivedEvent => ({ m: { e: 0, eid, ...(ts === undefined ? {} : { ts }) }, ctx: {} })
const T = 1_700_000_000
const atT = T * 1000

describe('the resume mark', () => {
  it('starts at ready’s ts, learning the server’s clock against the receiver’s', () => {
    expect(readyMark({ code: 'ready', control: true, ts: T }, atT - 5_000)).toEqual({ ts: T, eid: '', clock: 5 })
    expect(readyMark({ code: 'ready', control: true }, atT)).toEqual({ ts: T, eid: '', clock: 0 })
    expect(readyMark({ code: 'ready', control: true, ts: Infinity }, atT)).toEqual({ ts: T, eid: '', clock: 0 })
  })

  it('moves forward only, and returns the same mark when it stays', () => {
    const mark: Watermark = { ts: T, eid: '', clock: 0 }
    expect(advance(mark, event('older', T - 1), atT)).toBe(mark)
    expect(advance(mark, event('none'), atT)).toBe(mark)
    expect(advance(mark, event('nan', NaN), atT)).toBe(mark)
    expect(advance(mark, event('later', T + 1), atT)).toEqual({ ts: T + 1, eid: 'later', clock: 0 })
    expect(advance(undefined, event('first', T), atT)).toEqual({ ts: T, eid: 'first' })
  })

  it('learns the server’s clock at a ready only when it has none', () => {
    const known: Watermark = { ts: T, eid: 'a', clock: 3 }
    expect(readyMark({ code: 'ready', control: true, ts: T + 9 }, atT, known)).toBe(known)
    expect(readyMark({ code: 'ready', control: true, ts: T + 9 }, atT, { ts: T, eid: 'a' })).toEqual({ ts: T, eid: 'a', clock: 9 })
  })

  it('remembers the eids delivered at its timestamp, so that a tie is known exactly, up to a bound', () => {
    let mark: Watermark | undefined = { ts: T, eid: '', clock: 0 }
    const burst = Array.from({ length: MaxTiedEids + 3 }, (_, i) => `b${(i * 7919) % 1000}`)
    for (const eid of burst) mark = advance(mark, event(eid, T), atT)
    expect(advance(mark, event(burst[5]!, T), atT)).toBe(mark)
    // Remembered: seen; not remembered (past the bound): passed on, for the dedupe to judge.
    expect(burst.slice(0, MaxTiedEids).filter((eid) => unseen(event(eid, T), mark!))).toEqual([])
    expect(burst.slice(MaxTiedEids + 1).every((eid) => unseen(event(eid, T), mark!))).toBe(true)
    expect(unseen(event('never', T), mark!)).toBe(true)
    expect(unseen(event('never', T - 0.001), mark!)).toBe(false)
  })

  it.each([1e300, Infinity, T + 30 + Timestamps.maxAheadSeconds + 1, T + 86_400])(
    'never moves past the receiver’s clock (read as the server’s) plus the stated skew: m.ts %s',
    (ts) => {
      const mark: Watermark = { ts: T, eid: '', clock: 30 }
      const moved = advance(mark, event('ahead', ts), atT)
      expect(moved?.ts).toBe(markCeiling(atT, 30))
      expect(markCeiling(atT, 30)).toBe(T + 30 + Timestamps.maxAheadSeconds)
      // An event published a little later by a correct clock is still unseen after a gap.
      expect(unseen(event('later', T + 30 + Timestamps.maxAheadSeconds + 1), moved!)).toBe(true)
    },
  )

  it('takes every tie for unseen whatever its eid’s order, but the mark’s own; an earlier m.ts is seen', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.double({ noNaN: true }), (markEid, eid, ts) => {
        const mark: Watermark = { ts, eid: markEid }
        expect(unseen(event(eid, ts), mark)).toBe(eid !== markEid)
        if (Number.isFinite(ts)) expect(unseen(event(eid, ts - Math.max(1, Math.abs(ts) * 1e-9)), mark)).toBe(false)
      }),
    )
  })

  it('keeps the later of two marks, its own on a tie', () => {
    const own: Watermark = { ts: 10, eid: 'm' }
    expect(newer(own, { ts: 10, eid: 'z' })).toBe(own)
    expect(newer(own, { ts: 9, eid: 'z' })).toBe(own)
    expect(newer(own, undefined)).toBe(own)
    expect(newer(undefined, own)).toBe(own)
    expect(newer(own, { ts: 11, eid: '' })).toEqual({ ts: 11, eid: '' })
  })
})

describe('the mark’s positions (m.pos, per channel)', () => {
  const positioned = (eid: string, ts: number, chan: string | undefined, pos: unknown): ReceivedEvent =>
    ({ m: { e: 0, eid, ts, pos }, ctx: {}, ...(chan === undefined ? {} : { chan }) }) as ReceivedEvent

  it('keeps the last delivered per channel, whatever m.ts says, and only text from a named channel', () => {
    let mark = advance(undefined, positioned('a', 10, 'bot-1', 'e:1'), 0)
    expect(mark?.pos).toEqual({ 'bot-1': 'e:1' })
    mark = advance(mark, positioned('b', 5, 'bot-1', 'e:2'), 0)
    expect(mark).toMatchObject({ ts: 10, eid: 'a', pos: { 'bot-1': 'e:2' } })
    mark = advance(mark, positioned('g', 11, 'global', 'e:7'), 0)
    expect(mark).toMatchObject({ ts: 11, eid: 'g', pos: { 'bot-1': 'e:2', global: 'e:7' } })
    const same = advance(mark, positioned('c', 1, undefined, 'e:9'), 0)
    expect(same).toBe(mark)
    expect(advance(mark, positioned('d', 1, 'bot-1', 42), 0)).toBe(mark)
    expect(advance(mark, positioned('e', 12, 'bot-1', undefined), 0)?.pos).toEqual(mark?.pos)
  })
})
