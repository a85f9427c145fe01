import { eventLabel, type ReceivedEvent } from '@fates-rx/core'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { feedAnnouncements, summarize } from './announce.js'
import { addEvents, emptyTally, TallyBounds, type Tally } from './kept.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const ev = (e: number): ReceivedEvent => ({ m: { e }, ctx: {} })

describe('summarize', () => {
  it.each([
    ['one event', [ev(0)], '1 new event: bot vote 1'],
    ['most frequent first', [ev(16), ev(0), ev(0)], '3 new events: bot vote 2, bot view 1'],
    ['ties in order of arrival', [ev(17), ev(16)], '2 new events: bot invite 1, bot view 1'],
    [
      'at most three kinds named',
      [ev(0), ev(0), ev(16), ev(17), ev(99), ev(98)],
      '6 new events: bot vote 2, bot view 1, bot invite 1, 2 other kinds',
    ],
  ])('%s', (_label, events, expected) => {
    expect(summarize(events.map((event) => eventLabel(event.m.e)))).toBe(expected)
  })

  it('says how many arrived when more than are named', () => {
    expect(summarize(['bot vote'], 120)).toBe('120 new events: bot vote 1')
  })
})

describe('feedAnnouncements', () => {
  /** The tallies a stream of events folds into, one per event, from an empty one. */
  const tallies = (events: readonly ReceivedEvent[]): Tally[] => events.reduce<Tally[]>((all, event, i) => [...all, addEvents(all.at(-1) as Tally, [{ ...event, m: { ...event.m, eid: `e${i}` } }], i)], [emptyTally(0)])

  it('speaks at most once per interval, and not at all while nothing arrives', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const [start, a, b, c] = tallies([ev(0), ev(16), ev(0)])
      const source = cold<Tally>('sab 15ms c 30ms |', { s: start as Tally, a: a as Tally, b: b as Tally, c: c as Tally })
      // Windows of 10 ms: [0, 10) holds a and b, [10, 20) holds c, the two after hold nothing;
      // the completion flushes an empty buffer, which says nothing either.
      expectObservable(feedAnnouncements(source, 10)).toBe('10ms x 9ms y 28ms |', {
        x: '2 new events: bot vote 1, bot view 1',
        y: '1 new event: bot vote 1',
      })
      expectSubscriptions(source.subscriptions).toBe('^ 48ms !')
    })
  })

  it('counts every row a step added, though the feed keeps only the newest (TallyBounds.feed)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const start = emptyTally(0)
      const burst = addEvents(start, Array.from({ length: TallyBounds.feed + 10 }, (_, i) => ({ ...ev(0), m: { e: 0, eid: `b${i}` } })), 1)
      expectObservable(feedAnnouncements(cold<Tally>('sb|', { s: start, b: burst }), 10)).toBe('--(x|)', { x: `${TallyBounds.feed + 10} new events: bot vote ${TallyBounds.feed}` })
    })
  })

  it('announces nothing for events the tally counted before (a reload\'s resumed gap, a send_all replay)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const kept = addEvents(emptyTally(0), [{ ...ev(0), m: { e: 0, eid: 'a' } }], 0)
      const again = addEvents(kept, [{ ...ev(0), m: { e: 0, eid: 'a' }, resumed: true }], 1)
      const fresh = addEvents(again, [{ ...ev(16), m: { e: 16, eid: 'b' } }], 2)
      // The repeat in the first window adds no row: silence; the completion flushes the second.
      expectObservable(feedAnnouncements(cold<Tally>('ka 15ms f|', { k: kept, a: again, f: fresh }), 10)).toBe('18ms (x|)', { x: '1 new event: bot view 1' })
    })
  })
})
