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
  it('leaves the users that name no one out of the unique-user count: an invite\'s "0" (a visitor) and "None" (the API)', () => {
    const invite = (eid: string, user: string): ReceivedEvent => ({ m: { e: EventName.BotInvite, eid }, ctx: { user } })
    const t = addEvents(emptyTally(at), [invite('a', '0'), invite('b', 'None'), invite('c', '42'), invite('d', '0')], at)
    expect(t.total).toBe(4)
    expect(t.uniqueUsers).toBe(1)
  })

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

/** The `i`-th view of a channel publishing 5 a second from `at`: its eid, and `m.ts` in seconds. */
const nth = (i: number, extra: Partial<ReceivedEvent> = {}): ReceivedEvent => ({
  m: { e: EventName.BotView, eid: `n${i}`, ts: at / 1000 + i / 5 },
  ctx: { user: String(i % 300) },
  ...extra,
})
const range = (from: number, to: number, extra: Partial<ReceivedEvent> = {}): ReceivedEvent[] =>
  Array.from({ length: to - from }, (_, k) => nth(from + k, extra))
/** Events `from` to `to` (exclusive) counted live, one a burst, each as it arrives. */
const live = (start: Tally, from: number, to: number): Tally =>
  range(from, to).reduce((t, e, k) => addEvents(t, [e], at + (from + k) * 200), start)
/** A reload: the tally through storage. */
function reload(t: Tally): Tally {
  const parsed = parseTally(serializeTally(t))
  if (!('tally' in parsed)) throw new Error(parsed.problem)
  return parsed.tally
}

describe('a send_all replay of what the tally counted', () => {
  it('counts nothing again, however far beyond the 512 eids it reaches', () => {
    // 200 s watched without send_all; Disconnect; send_all ticked; Connect: the server's
    // whole history comes as prior.
    const watched = reload(live(emptyTally(at), 0, 1_000))
    const t = addEvents(watched, range(0, 1_000, { prior: true }), at + 300_000)
    expect(t.total).toBe(1_000)
    expect(t.replayed).toBe(0)
    expect(t.feed).toEqual(watched.feed)
  })

  it('counts what was published while the page was away, once, and then goes on live', () => {
    const watched = reload(live(emptyTally(at), 0, 1_000))
    let t = addEvents(watched, range(0, 1_500, { prior: true }), at + 300_000)
    expect([t.total, t.replayed]).toEqual([1_500, 500])
    t = addEvents(t, [nth(1_500)], at + 300_200)
    expect(t.total).toBe(1_501)
    // Watched and replayed join into one span: a later replay of it all counts nothing.
    const again = addEvents(reload(t), range(0, 1_501, { prior: true }), at + 400_000)
    expect(reload(again).spans).toEqual([[at / 1000, at / 1000 + 300, 'n0', 'n1500']])
    expect(again.total).toBe(1_501)
  })

  it('claims no gap: a load that did not resume starts a span of its own', () => {
    // Watched 0–599; Disconnect; Connect again 200 s later without a resume (a new
    // persist record): 600–999 were never delivered.
    const first = reload(live(emptyTally(at), 0, 600))
    const second = reload(live(first, 1_000, 1_600))
    expect(second.spans).toEqual([
      [at / 1000, at / 1000 + 599 / 5, 'n0', 'n599'],
      [at / 1000 + 200, at / 1000 + 1_599 / 5, 'n1000', 'n1599'],
    ])
    const t = addEvents(second, range(0, 1_600, { prior: true }), at + 400_000)
    expect([t.total, t.replayed]).toEqual([1_600, 400])
  })

  it('joins a gap filled by a resume to the span before it', () => {
    const first = reload(live(emptyTally(at), 0, 600))
    const resumed = reload(addEvents(first, range(600, 1_000, { resumed: true }), at + 200_000))
    expect(resumed.spans).toEqual([[at / 1000, at / 1000 + 999 / 5, 'n0', 'n999']])
    expect(addEvents(resumed, range(0, 1_000, { prior: true }), at + 300_000).total).toBe(1_000)
  })

  it('judges an event without m.ts, or another sharing a span\'s first stamp, by its eid alone', () => {
    const watched = reload(live(emptyTally(at), 0, 1_000))
    const bare = (eid: string): ReceivedEvent => ({ m: { e: EventName.BotView, eid }, ctx: {}, prior: true })
    // Published at the stamp the span begins at, but maybe just before the stream began.
    const tie = nth(0, { prior: true, m: { e: EventName.BotView, eid: 'tie', ts: at / 1000 } })
    const replay = [tie, nth(0, { prior: true }), bare('n1'), bare('n999'), nth(999, { prior: true })]
    // n1's eid is long forgotten: without a stamp it counts again; n0 and n999 are the span's ends.
    expect(addEvents(watched, replay, at + 300_000).total).toBe(1_002)
  })

  it('keeps at most the newest spans', () => {
    let t = emptyTally(at)
    for (let load = 0; load < TallyBounds.spans + 4; load++) t = reload(live(t, load * 10, load * 10 + 2))
    expect(t.spans).toHaveLength(TallyBounds.spans)
    const load = TallyBounds.spans + 3
    expect(t.spans[0]?.[2]).toBe('n40')
    expect(t.spans.at(-1)).toEqual([at / 1000 + load * 2, at / 1000 + (load * 10 + 1) / 5, `n${load * 10}`, `n${load * 10 + 1}`])
  })

  it('reads a tally stored before spans as one that claims none', () => {
    const { spans: _spans, run: _run, ...older } = live(emptyTally(at), 0, 10)
    const parsed = parseTally(JSON.stringify(older))
    expect('tally' in parsed && parsed.tally.spans).toEqual([])
  })
})

describe('a gap filled in after a reload', () => {
  it('is drawn at its own seconds, not as a burst at the second it arrived', () => {
    // 5 a second for 2 minutes; the page is away 5 minutes; the resume brings the 1,500 missed.
    const watched = reload(range(0, 600).reduce((t, e, k) => addEvents(t, [e], at + k * 200), emptyTally(at)))
    const back = at + 420_000
    const t = addEvents(watched, range(600, 2_100, { resumed: true }), back)
    expect(t.total).toBe(2_100)
    // 5 a second over the last minute, as a page that stayed would have drawn it.
    expect(statsOf(t, back, 60_000).perMinuteTotal).toBe(295)
    const chart = chartOf(t, back, 300_000, 60_000)
    expect(Math.max(...(chart.series[1] ?? []))).toBeLessThanOrEqual(305)
  })

  it('draws one stamped ahead of this clock now, and none without m.ts or from before the tally began', () => {
    const t = addEvents(
      emptyTally(at),
      [
        nth(0, { resumed: true, m: { e: EventName.BotView, eid: 'ahead', ts: at / 1000 + 3_600 } }),
        { m: { e: EventName.BotView, eid: 'unstamped' }, ctx: {}, resumed: true },
        nth(0, { resumed: true, m: { e: EventName.BotView, eid: 'before', ts: at / 1000 - 30 } }),
      ],
      at,
    )
    expect(t.total).toBe(3)
    expect(t.buckets).toEqual([{ s: at / 1000, n: { [EventName.BotView]: 1 } }])
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
    // The run this load's stream extends is stored as a span: the next load opens its own.
    expect(t.run).toEqual({ span: [at / 1000, at / 1000, 'a', 'a'], prior: false })
    expect(parseTally(serializeTally(t))).toEqual({ tally: { ...t, spans: [[at / 1000, at / 1000, 'a', 'a']], run: null } })
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
    ['a bad span', JSON.stringify({ ...emptyTally(at), spans: [[2, 1, '', '']] }), 'a bad spans field'],
    ['too many spans', JSON.stringify({ ...emptyTally(at), spans: Array.from({ length: 17 }, (_, i) => [i, i, '', '']) }), 'a bad spans field'],
    ['null', 'null', 'not an object'],
    ['too long', 'x'.repeat(TallyBounds.chars + 1), `longer than ${TallyBounds.chars} characters`],
  ])('name what is wrong with %s, without throwing', (_label, text, problem) => {
    expect(parseTally(text)).toEqual({ problem })
  })
})
