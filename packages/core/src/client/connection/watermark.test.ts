import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../../codec/index.js'
import { Timestamps } from '../../protocol/index.js'
import { advance, advanceAll, markCeiling, MaxTiedEids, newer, readyMark, unseen, type Watermark } from './watermark.js'

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

  it('holds a mark that had no clock to the ceiling the ready gives it (a stored mark a year ahead)', () => {
    const ahead: Watermark = { ts: T + 365 * 86_400, eid: 'far', tied: ['x'], pos: { 'bot-1': 'e1:9' } }
    const ceiling = T + 9 + Timestamps.maxAheadSeconds
    expect(readyMark({ code: 'ready', control: true, ts: T + 9 }, atT, ahead)).toEqual({ ts: ceiling, eid: '', clock: 9, tied: undefined, pos: { 'bot-1': 'e1:9' } })
    // At the ceiling, it is kept as it is; a mark with a clock is the ceiling's already.
    expect(readyMark({ code: 'ready', control: true, ts: T + 9 }, atT, { ts: ceiling, eid: 'a' })).toEqual({ ts: ceiling, eid: 'a', clock: 9 })
    expect(readyMark({ code: 'ready', control: true, ts: T + 9 }, atT, { ...ahead, clock: 0 })).toEqual({ ...ahead, clock: 0 })
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

  // One rule in advance and unseen: an event without an eid is the eid '' (as a ready mark's).
  it('takes an event without an eid for the eid \'\', moving the mark and judging a tie', () => {
    const bare: ReceivedEvent = { m: { e: 0, ts: T }, ctx: {} }
    expect(advance(undefined, bare, atT)).toEqual({ ts: T, eid: '' })
    expect(unseen(bare, { ts: T, eid: '' })).toBe(false)
    expect(unseen(bare, { ts: T, eid: 'a' })).toBe(true)
    expect(unseen(bare, { ts: T, eid: 'a', tied: [''] })).toBe(false)
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
    // A channel's position seen again is no move: the same mark, not a copy.
    expect(advance(mark, positioned('f', 1, 'bot-1', 'e:2'), 0)).toBe(mark)
  })
})

describe('a run of events moves the mark as its events one by one do (advanceAll)', () => {
  // Few eids, timestamps, channels and positions, so that ties, repeats, the tie list's cap
  // and positions going back all occur; NaN, no m.ts and far-future stamps besides.
  const stamp = fc.oneof(fc.constantFrom(T - 1, T, T + 1, T + 2, NaN, 1e300), fc.constant(undefined))
  const anEvent = fc
    .record({ eid: fc.constantFrom('', 'a', 'b', 'c', 'd'), ts: stamp, chan: fc.option(fc.constantFrom('bot-1', 'global'), { nil: undefined }), pos: fc.option(fc.constantFrom('e:1', 'e:2', 'e:3', 7), { nil: undefined }) })
    .map(({ eid, ts, chan, pos }) => ({ m: { e: 0, eid, ...(ts === undefined ? {} : { ts }), ...(pos === undefined ? {} : { pos }) }, ctx: {}, ...(chan === undefined ? {} : { chan }) }) as ReceivedEvent)
  const aMark: fc.Arbitrary<Watermark | undefined> = fc.option(
    fc.record(
      {
        ts: fc.constantFrom(-Infinity, T - 1, T, T + 1),
        eid: fc.constantFrom('', 'a', 'b'),
        clock: fc.option(fc.constantFrom(0, -1, 3600), { nil: undefined }),
        tied: fc.option(fc.array(fc.constantFrom('c', 'd', 'x'), { maxLength: MaxTiedEids + 2 }), { nil: undefined }),
        pos: fc.option(fc.dictionary(fc.constantFrom('bot-1', 'global', 'bot-2'), fc.constantFrom('e:1', 'e:2')), { nil: undefined }),
      },
      { requiredKeys: ['ts', 'eid'] },
    ),
    { nil: undefined },
  )

  // The rule as it was written before advanceAll, one event and one new mark at a time: an
  // independent model, so that a slip shared by advance and advanceAll (advance is advanceAll
  // of one event) still shows.
  const model = (mark: Watermark | undefined, event: ReceivedEvent, atMs: number): Watermark | undefined => {
    const chan = event.chan
    const pos = event.m.pos
    if (chan !== undefined && typeof pos === 'string' && mark?.pos?.[chan] !== pos) mark = { ...(mark ?? { ts: -Infinity, eid: '' }), pos: { ...mark?.pos, [chan]: pos } }
    let ts = event.m.ts ?? -Infinity
    if (Number.isNaN(ts)) return mark
    if (mark?.clock !== undefined) ts = Math.min(ts, markCeiling(atMs, mark.clock))
    const eid = event.m.eid ?? ''
    if (mark === undefined || ts > mark.ts) return { ts, eid, clock: mark?.clock, tied: undefined, pos: mark?.pos }
    if (ts < mark.ts || eid === mark.eid || mark.tied?.includes(eid) === true || (mark.tied?.length ?? 0) >= MaxTiedEids) return mark
    const tied = mark.eid === '' ? mark.tied : [...(mark.tied ?? []), mark.eid]
    return { ts, eid, clock: mark.clock, tied, pos: mark.pos }
  }

  it('gives the fold of advance, and of the model, the same mark when nothing moved, and never writes into the mark it was given', () => {
    fc.assert(
      fc.property(aMark, fc.array(anEvent, { maxLength: 30 }), fc.constantFrom(atT, atT - 7_200_000), (mark, events, at) => {
        const given = structuredClone(mark)
        const folded = events.reduce<Watermark | undefined>((m, e) => advance(m, e, at), mark)
        const run = advanceAll(mark, events, at)
        expect(run).toEqual(folded)
        expect(run).toEqual(events.reduce<Watermark | undefined>((m, e) => model(m, e, at), mark))
        if (folded === mark) expect(run).toBe(mark)
        expect(mark).toEqual(given)
      }),
      { numRuns: 2_000 },
    )
  })
})
