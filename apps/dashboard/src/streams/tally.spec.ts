import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally } from './kept.js'
import { tally } from './tally.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const ev = (eid: string): ReceivedEvent => ({ m: { e: EventName.BotVote, eid }, ctx: { votes: 1 } })

describe('tally', () => {
  it('emits the start at once, folds a burst in one step, and skips a burst of repeats', () => {
    const s = scheduler()
    s.run(({ hot, expectObservable, expectSubscriptions }) => {
      const start = addEvents(emptyTally(0), [ev('a')], 0)
      const event$ = hot<ReceivedEvent>('-(bc)-a-d|', { a: ev('a'), b: ev('b'), c: ev('c'), d: ev('d') })
      const totals = event$.pipe(
        tally(start, s),
        map((t) => t.total),
      )
      // b and c arrive in one frame: one tally of 3. The repeat of a counts nothing: no emission.
      expectObservable(totals).toBe('xb------d|', { x: 1, b: 3, d: 4 })
      expectSubscriptions(event$.subscriptions).toBe('^--------!')
    })
  })
})
