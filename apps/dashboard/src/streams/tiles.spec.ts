import { type EventStats, EventName, NoEventStats } from '@fates-rx/core'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { chartView, tilesOf } from './tiles.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

const stats = (at: number, perMinute: Record<number, number>, extra: Partial<EventStats> = {}): EventStats => ({
  ...NoEventStats,
  at,
  perMinute,
  perMinuteTotal: Object.values(perMinute).reduce((a, b) => a + b, 0),
  ...extra,
})

describe('tilesOf', () => {
  it('sums bot and server events per group and words every tile', () => {
    const tiles = tilesOf(
      stats(
        0,
        { [EventName.BotVote]: 1.25, [EventName.ServerVote]: 2 },
        {
          total: 1234,
          totals: { [EventName.BotVote]: 1000, [EventName.ServerVote]: 200, [EventName.BotInvite]: 34 },
          uniqueUsers: 3,
          latestVote: { votes: 5678, e: 0 },
        },
      ),
    )
    expect(tiles.map((t) => [t.id, t.value, t.sub])).toEqual([
      ['votes', '1,200', '3.3 / min'],
      ['views', '0', '0 / min'],
      ['invites', '34', '0 / min'],
      ['users', '3', 'since connect'],
      ['latest-vote', '5,678', 'from the newest vote'],
      ['events', '1,234', '3.3 / min'],
    ])
  })

  it('shows a dash before any vote', () => {
    expect(tilesOf(stats(0, {})).find((t) => t.id === 'latest-vote')?.value).toBe('–')
  })
})

describe('chartView', () => {
  it('samples at most once per interval and lets old points fall off', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b 997ms c 999ms d|', {
        a: stats(0, { [EventName.BotVote]: 60 }),
        b: stats(2, { [EventName.BotVote]: 120 }),
        c: stats(1_000, { [EventName.BotView]: 30, 99: 6 }),
        d: stats(2_000, {}),
      })
      const chart = chartView(source, { sampleMs: 1_000, spanMs: 1_500 })
      // b is dropped: c, the newest of the same interval, is its trailing sample.
      expectObservable(chart).toBe('a 999ms c 999ms d|', {
        a: { x: [0], series: [[60], [0], [0], [0]] },
        c: { x: [0, 1], series: [[60, 0], [0, 30], [0, 0], [0, 6]] },
        d: { x: [1, 2], series: [[0, 0], [30, 0], [0, 0], [6, 0]] },
      })
      expectSubscriptions(source.subscriptions).toBe('^ 2000ms !')
    })
  })
})
