import { type EventStats, EventName, NoEventStats } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { tilesOf } from './tiles.js'

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
      ['users', '3', 'kept across reloads'],
      ['latest-vote', '5,678', 'from the newest vote'],
      ['events', '1,234', '3.3 / min'],
    ])
  })

  it('shows a dash before any vote', () => {
    expect(tilesOf(stats(0, {})).find((t) => t.id === 'latest-vote')?.value).toBe('–')
  })
})
