import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { addEvents, chartOf, emptyTally, OtherName, parseTally, serializeTally, statsOf, type Tally, TallyBounds } from './kept.js'

const at = 1_700_000_000_000
const vote = (eid: string, votes = 1, user = `u-${eid}`, extra: Partial<ReceivedEvent> = {}): ReceivedEvent => ({
  m: { e: EventName.BotVote, eid, ts: at / 1000 },
  ctx: { user, votes },
  ...extra,
})
const view = (eid: string): ReceivedEvent => ({ m: { e: EventName.BotView, eid }, ctx: { user: '7' } })

/** Adds each event as its own burst, `stepMs` apart. */
function fold(events: readonly ReceivedEvent[], stepMs = 0, start: Tally = emptyTally(at)): Tally {
  return events.reduce((t, e, i) => addEvents(t, [e], at + i * stepMs), start)
}

describe('addEvents', () => {
  it('counts totals, replays, users, the newest vote and feed rows', () => {
    const t = addEvents(emptyTally(at), [vote('a', 3, '1'), view('b'), vote('c', 5, '1', { prior: true })], at)
    expect(t.total).toBe(3)
    expect(t.totals).toEqual({ [EventName.BotVote]: 2, [EventName.BotView]: 1 })
    expect(t.replayed).toBe(1)
    expect(t.uniqueUsers).toBe(2)
    expect(t.latestVote?.votes).toBe(5)
    expect(t.feed.map((r) => `${r.key}:${r.name}`)).toEqual(['3:bot vote', '2:bot view', '1:bot vote'])
    // Replays are not live arrivals: the rate leaves them out.
    expect(t.buckets).toEqual([{ s: at / 1000, n: { [EventName.BotVote]: 1, [EventName.BotView]: 1 } }])
  })

  it('counts nothing twice: an eid it holds, in a later burst or the same one, is dropped', () => {
    const once = addEvents(emptyTally(at), [vote('a'), vote('a')], at)
    expect(once.total).toBe(1)
    const again = addEvents(once, [vote('a')], at + 5_000)
    expect(again).toBe(once)
    // Events without an eid cannot be told apart: each counts.
    const bare: ReceivedEvent = { m: { e: EventName.BotView }, ctx: {} }
    expect(addEvents(once, [bare, bare], at).total).toBe(3)
  })

  it('drops, after a round trip through storage, the events counted before it (a resumed gap)', () => {
    const before = fold([vote('a'), vote('b'), vote('c')])
    const parsed = parseTally(serializeTally(before))
    if (!('tally' in parsed)) throw new Error(parsed.problem)
    const after = addEvents(parsed.tally, [vote('b'), vote('c'), vote('d', 9)], at + 10_000)
    expect(after.total).toBe(4)
    expect(after.feed).toHaveLength(4)
    expect(after.latestVote?.votes).toBe(9)
  })

  it('holds every bound however many events come', () => {
    const many = Array.from({ length: 3_000 }, (_, i): ReceivedEvent => ({
      m: { e: 1_000 + (i % 200), eid: `e${i}` },
      ctx: { user: `user-${i}`, note: 'x'.repeat(500) },
    }))
    const t = fold(many, 200)
    expect(t.total).toBe(3_000)
    expect(Object.keys(t.totals)).toHaveLength(TallyBounds.names + 1)
    expect(t.totals[String(OtherName)]).toBe(3_000 - [...Array(3_000).keys()].filter((i) => i % 200 < TallyBounds.names).length)
    expect(t.users).toHaveLength(TallyBounds.users)
    expect(t.uniqueUsers).toBe(3_000)
    expect(t.eids).toHaveLength(TallyBounds.eids)
    expect(t.eids.at(-1)).toBe('e2999')
    expect(t.feed).toHaveLength(TallyBounds.feed)
    expect(t.buckets.length).toBeLessThanOrEqual(TallyBounds.seconds)
    expect(t.buckets[0]?.s).toBeGreaterThan((at + 2_999 * 200) / 1000 - TallyBounds.seconds)
    expect(serializeTally(t).length).toBeLessThanOrEqual(TallyBounds.chars)
  })

  it('keeps long eids by digest, still dropping their repeats', () => {
    const long = 'x'.repeat(5_000)
    const t = addEvents(emptyTally(at), [vote(long)], at)
    expect(t.eids[0]?.length).toBeLessThan(20)
    expect(addEvents(t, [vote(long)], at)).toBe(t)
  })
})

describe('statsOf and chartOf', () => {
  it('rate live arrivals over the window, and the chart draws the same from a restored tally', () => {
    // 30 votes, one a second, then 30 s of quiet.
    const t = fold(Array.from({ length: 30 }, (_, i) => vote(`v${i}`)), 1_000)
    const stats = statsOf(t, at + 30_000, 60_000)
    expect(stats.totals[EventName.BotVote]).toBe(30)
    // 30 in the 30 s seen so far: 60 a minute.
    expect(stats.perMinute[EventName.BotVote]).toBeCloseTo(60)
    expect(statsOf(t, at + 200_000, 60_000).perMinuteTotal).toBe(0)
    const chart = chartOf(t, at + 59_000, 300_000, 60_000)
    expect(chart.x[0]).toBe(at / 1000)
    expect(chart.x).toHaveLength(60)
    expect(chart.series[0]?.[29]).toBeCloseTo(60)
    expect(chart.series[1]?.every((v) => v === 0)).toBe(true)
    const parsed = parseTally(serializeTally(t))
    if (!('tally' in parsed)) throw new Error(parsed.problem)
    expect(chartOf(parsed.tally, at + 59_000, 300_000, 60_000)).toEqual(chart)
    expect(statsOf(parsed.tally, at + 30_000, 60_000)).toEqual(stats)
  })

  it('draw at most the span, and only whole seconds', () => {
    const t = fold([vote('a')], 0, emptyTally(at - 1_000_000))
    const chart = chartOf(t, at + 500, 300_000, 60_000)
    expect(chart.x).toHaveLength(300)
    expect(chart.x.at(-1)).toBe(at / 1000)
  })
})

describe('serializeTally and parseTally', () => {
  it('round-trip a tally', () => {
    const t = fold([vote('a', 4, '1'), view('b')], 1_000)
    expect(parseTally(serializeTally(t))).toEqual({ tally: t })
  })

  it('shrink a tally whose rows would be too long, oldest first', () => {
    const t = fold([vote('a'), vote('b')])
    const huge: Tally = { ...t, feed: t.feed.map((row) => ({ ...row, fields: 'f'.repeat(100_000) })) }
    const text = serializeTally(huge)
    expect(text.length).toBeLessThanOrEqual(TallyBounds.chars)
    const parsed = parseTally(text)
    expect('tally' in parsed && parsed.tally.feed.map((r) => r.key)).toEqual(['2'])
  })

  it.each([
    ['not JSON', '{', 'not JSON'],
    ['another version', JSON.stringify({ ...emptyTally(at), v: 2 }), 'an unknown format'],
    ['a negative count', JSON.stringify({ ...emptyTally(at), total: -1 }), 'a bad counts field'],
    ['too many eids', JSON.stringify({ ...emptyTally(at), eids: Array.from({ length: 513 }, String) }), 'a bad eids field'],
    ['a bad row', JSON.stringify({ ...emptyTally(at), feed: [{ key: 1 }] }), 'a bad feed field'],
    ['a bad bucket', JSON.stringify({ ...emptyTally(at), buckets: [{ s: 1.5, n: {} }] }), 'a bad buckets field'],
    ['a bad vote', JSON.stringify({ ...emptyTally(at), latestVote: { votes: '1', e: 0 } }), 'a bad latestVote field'],
    ['null', 'null', 'not an object'],
    ['too long', 'x'.repeat(TallyBounds.chars + 1), `longer than ${TallyBounds.chars} characters`],
  ])('name what is wrong with %s, without throwing', (_label, text, problem) => {
    expect(parseTally(text)).toEqual({ problem })
  })
})
