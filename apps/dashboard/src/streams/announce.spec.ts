import type { ReceivedEvent } from '@fates-rx/core'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { feedAnnouncements, summarize } from './announce.js'

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
    expect(summarize(events)).toBe(expected)
  })
})

describe('feedAnnouncements', () => {
  it('speaks at most once per interval, and not at all while nothing arrives', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<ReceivedEvent>('ab 15ms c 30ms |', { a: ev(0), b: ev(16), c: ev(0) })
      // Windows of 10 ms: [0, 10) holds a and b, [10, 20) holds c, the two after hold nothing;
      // the completion flushes an empty buffer, which says nothing either.
      expectObservable(feedAnnouncements(source, 10)).toBe('10ms x 9ms y 27ms |', {
        x: '2 new events: bot vote 1, bot view 1',
        y: '1 new event: bot vote 1',
      })
      expectSubscriptions(source.subscriptions).toBe('^ 47ms !')
    })
  })
})
