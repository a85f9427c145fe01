import fc from 'fast-check'
import { map, type SchedulerLike, Subject } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/index.js'
import { EventName } from '../protocol/index.js'
import { type EventStats, eventStats, NoEventStats } from './event-stats.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const ev = (e: number, ctx: Record<string, unknown> = {}, m: object = {}, extra: object = {}): ReceivedEvent => ({
  m: { e, ...m },
  ctx,
  ...extra,
})

const zero: EventStats = NoEventStats

describe('eventStats', () => {
  it('emits a zero snapshot, then one per event, and completes with the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b|', {
        a: ev(EventName.BotVote, { user: '1', votes: 3 }, { ts: 10 }),
        b: ev(EventName.BotView, { user: '2', widget: false }),
      })
      expectObservable(source.pipe(eventStats({ tickMs: 0 }))).toBe('xa-b|', {
        x: zero,
        a: {
          at: 1,
          total: 1,
          totals: { 0: 1 },
          replayed: 0,
          perMinute: { 0: 60 },
          perMinuteTotal: 60,
          uniqueUsers: 1,
          latestVote: { votes: 3, e: 0, user: '1', ts: 10 },
        },
        b: {
          at: 3,
          total: 2,
          totals: { 0: 1, 16: 1 },
          replayed: 0,
          perMinute: { 0: 60, 16: 60 },
          perMinuteTotal: 120,
          uniqueUsers: 2,
          latestVote: { votes: 3, e: 0, user: '1', ts: 10 },
        },
      })
      expectSubscriptions(source.subscriptions).toBe('^---!')
    })
  })

  it('measures per-minute rates over the sliding window and lets them decay on ticks', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const vote = ev(EventName.BotVote)
      const source = cold('1000ms a 999ms b', { a: vote, b: vote })
      const rate = source.pipe(
        eventStats({ windowMs: 60_000, tickMs: 20_000 }),
        map((s) => [s.at, s.perMinute[EventName.BotVote] ?? 0, s.total]),
      )
      // Before a whole window has passed the rate is scaled from the time seen so far: two votes
      // in the first 2 s are 60 per minute, the same two over 20 s are 6 per minute; once they
      // leave the 60 s window the rate is 0 while the total stays.
      expectObservable(rate, '^ 80000ms !').toBe(
        'x 999ms a 999ms b 17999ms c 19999ms d 19999ms e 19999ms f',
        {
          x: [0, 0, 0],
          a: [1_000, 60, 1],
          b: [2_000, 60, 2],
          c: [20_000, 6, 2],
          d: [40_000, 3, 2],
          e: [60_000, 2, 2],
          f: [80_000, 0, 2],
        },
      )
      expectSubscriptions(source.subscriptions).toBe('^ 80000ms !')
    })
  })

  it('counts replayed events in the totals but not in the rates', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b|', {
        a: ev(EventName.BotInvite, { user: '1' }, {}, { prior: true }),
        b: ev(EventName.BotInvite, { user: '1' }, {}, { prior: false }),
      })
      const seen = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => [s.totals[EventName.BotInvite] ?? 0, s.replayed, s.perMinute[EventName.BotInvite] ?? 0]),
      )
      expectObservable(seen).toBe('xa-b|', { x: [0, 0, 0], a: [1, 1, 0], b: [2, 1, 60] })
      expectSubscriptions(source.subscriptions).toBe('^---!')
    })
  })

  it('counts events of names it does not know, by their number', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a|', { a: ev(99) })
      const seen = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => s.totals),
      )
      expectObservable(seen).toBe('xa|', { x: {}, a: { 99: 1 } })
      expectSubscriptions(source.subscriptions).toBe('^-!')
    })
  })

  it('counts unique users, comparing string and numeric snowflakes and ignoring null', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abcd|', {
        a: ev(EventName.BotView, { user: '1' }),
        b: ev(EventName.BotView, { user: 2 }),
        c: ev(EventName.BotView, { user: '2' }),
        d: ev(EventName.CommandAdd, { user: null, id: '5' }),
      })
      const seen = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => s.uniqueUsers),
      )
      expectObservable(seen).toBe('xabcd|', { x: 0, a: 1, b: 2, c: 2, d: 2 })
      expectSubscriptions(source.subscriptions).toBe('^----!')
    })
  })

  it('keeps the vote count of the newest vote by m.ts, whatever the arrival order', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abcde|', {
        a: ev(EventName.BotVote, { user: '1', votes: 5 }, { ts: 10 }),
        b: ev(EventName.BotVote, { user: '2', votes: 7 }, { ts: 12 }),
        c: ev(EventName.BotVote, { user: '3', votes: 6 }, { ts: 11 }),
        d: ev(EventName.BotView, { user: '4', votes: 100 }, { ts: 13 }),
        e: ev(EventName.ServerVote, { user: '5', votes: 8 }, { ts: 12.5 }),
      })
      const seen = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => s.latestVote?.votes ?? null),
      )
      expectObservable(seen).toBe('xabcde|', { x: null, a: 5, b: 7, c: 7, d: 7, e: 8 })
      expectSubscriptions(source.subscriptions).toBe('^-----!')
    })
  })

  it('ignores a vote without a count, and places a vote without a timestamp only among its kind', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-abcd|', {
        a: ev(EventName.BotVote, { user: '1' }, { ts: 1 }),
        b: ev(EventName.BotVote, { user: '1', votes: 2 }),
        c: ev(EventName.BotVote, { user: '1', votes: 3 }, { ts: 1 }),
        d: ev(EventName.BotVote, { user: '1', votes: 9 }),
      })
      const seen = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => s.latestVote?.votes ?? null),
      )
      expectObservable(seen).toBe('xabcd|', { x: null, a: null, b: 2, c: 3, d: 3 })
      expectSubscriptions(source.subscriptions).toBe('^----!')
    })
  })

  it('passes an error through and stops ticking', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a 1500ms #', { a: ev(EventName.BotView) }, new Error('boom'))
      const seen = source.pipe(
        eventStats({ tickMs: 1_000 }),
        map((s) => s.total),
      )
      expectObservable(seen).toBe('xa 998ms t 501ms #', { x: 0, a: 1, t: 1 }, new Error('boom'))
      expectSubscriptions(source.subscriptions).toBe('^ 1501ms !')
    })
  })

  it('stops ticking when the source completes', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReceivedEvent>('2500ms |')
      const seen = source.pipe(
        eventStats({ tickMs: 1_000 }),
        map((s) => s.at),
      )
      expectObservable(seen).toBe('x 999ms a 999ms b 499ms |', { x: 0, a: 1_000, b: 2_000 })
      expectSubscriptions(source.subscriptions).toBe('^ 2499ms !')
    })
  })

  it('keeps its state per subscription', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a|', { a: ev(EventName.BotView) })
      const counted = source.pipe(
        eventStats({ tickMs: 0 }),
        map((s) => s.total),
      )
      expectObservable(counted).toBe('xa|', { x: 0, a: 1 })
      expectObservable(counted).toBe('xa|', { x: 0, a: 1 })
    })
  })

  it.each([
    ['windowMs 0', { windowMs: 0 }],
    ['windowMs negative', { windowMs: -5 }],
    ['windowMs NaN', { windowMs: Number.NaN }],
    ['tickMs negative', { tickMs: -1 }],
    ['tickMs infinite', { tickMs: Number.POSITIVE_INFINITY }],
  ])('rejects %s at the call', (label, config) => {
    expect(() => eventStats(config)).toThrow(new RegExp(`^eventStats: ${label.split(' ')[0]} must be`))
    expect(() => eventStats(config)).toThrow(RangeError)
  })

  // The sliding window is a queue with a moving head that is compacted now and then; the model
  // is the definition: live events of the last `windowMs`, scaled to a minute from the time seen.
  it('rates equal the live events of the last window, scaled, at every event (property, against the definition)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_000 }),
        fc.array(fc.tuple(fc.nat({ max: 40 }), fc.constantFrom(EventName.BotVote, EventName.BotView, 99), fc.boolean()), {
          maxLength: 2_500,
        }),
        (windowMs, arrivals) => {
          const { clock, feed, latest } = drive(windowMs)
          const live: [at: number, e: number][] = []
          for (const [gap, e, prior] of arrivals) {
            clock.t += gap
            feed(ev(e, {}, {}, prior ? { prior: true } : {}))
            if (!prior) live.push([clock.t, e])
            const span = Math.min(windowMs, Math.max(clock.t, 1_000))
            const expected: Record<number, number> = {}
            let sum = 0
            for (const [at, name] of live) {
              if (at > clock.t - windowMs) {
                expected[name] = (expected[name] ?? 0) + 60_000 / span
                sum += 60_000 / span
              }
            }
            const stats = latest()
            expect(Object.keys(stats.perMinute).sort()).toEqual(Object.keys(expected).sort())
            for (const [name, rate] of Object.entries(stats.perMinute)) expect(rate).toBeCloseTo(expected[Number(name)] ?? 0, 6)
            expect(stats.perMinuteTotal).toBeCloseTo(sum, 6)
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  // The rate's span counts from the subscription, not from time 0.
  it('scales the first rates from the time since subscription', () => {
    const { clock, feed, latest } = drive(60_000, 100_000)
    clock.t = 100_500
    feed(ev(EventName.BotView))
    expect(latest().perMinute).toEqual({ [EventName.BotView]: 60 })
    clock.t = 110_000
    feed(ev(EventName.BotView))
    expect(latest().perMinute).toEqual({ [EventName.BotView]: 12 })
  })

  it('takes the later of two votes with the same or no m.ts, and keeps only what the vote said', () => {
    const { feed, latest } = drive(60_000)
    feed(ev(EventName.BotVote, { votes: 1 }))
    feed(ev(EventName.BotVote, { votes: 2 }))
    expect(latest().latestVote).toStrictEqual({ votes: 2, e: EventName.BotVote })
    feed(ev(EventName.ServerVote, { votes: 3, user: 42 }, { ts: 5 }))
    feed(ev(EventName.BotVote, { votes: 4, user: 43 }, { ts: 5 }))
    expect(latest().latestVote).toStrictEqual({ votes: 4, e: EventName.BotVote, user: '43', ts: 5 })
  })

  // Past 1024 evicted arrivals the queue drops its evicted head: the rate must not notice.
  it('keeps the rate exact across the queue dropping its evicted head', () => {
    const { clock, feed, latest } = drive(1_000)
    // Votes, then views: the queue's times and names must stay in step through each drop.
    const name = (i: number) => (i <= 2_500 ? EventName.BotVote : EventName.BotView)
    for (let i = 1; i <= 5_000; i++) {
      clock.t = i * 10
      feed(ev(name(i)))
      // 100 events per second from 1 s on; the window holds the last 100 (i-99 … i).
      const expected: Record<number, number> = {}
      for (let j = Math.max(1, i - 99); j <= i; j++) expected[name(j)] = (expected[name(j)] ?? 0) + 60
      expect(latest().perMinute).toEqual(expected)
    }
    expect(latest().total).toBe(5_000)
  })
})

/** eventStats over a Subject with a hand-set clock and no ticks: one snapshot per event fed. */
function drive(windowMs: number, startAt = 0) {
  const clock = { t: startAt }
  const scheduler: SchedulerLike = {
    now: () => clock.t,
    schedule: () => {
      throw new Error('no ticks in this test')
    },
  }
  const source = new Subject<ReceivedEvent>()
  let last: EventStats = NoEventStats
  source.pipe(eventStats({ windowMs, tickMs: 0, scheduler })).subscribe((stats) => (last = stats))
  return { clock, feed: (event: ReceivedEvent) => source.next(event), latest: () => last }
}
