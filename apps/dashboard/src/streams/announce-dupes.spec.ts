// Found by a review: the announcement counted the raw events, not what the tally added.
import type { ConnectionStatus, ControlPayload, Diagnostic, ReceivedEvent } from '@fates-rx/core'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally } from './kept.js'
import { targetView } from './target.js'

describe('the feed announcement after a reload', () => {
  it('does not announce as new the events the tally (and the feed) dropped as counted before', () => {
    new TestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, hot, expectObservable }) => {
      const a: ReceivedEvent = { m: { e: 0, eid: 'a', ts: 1 }, ctx: { user: '1', votes: 9 } }
      const b: ReceivedEvent = { m: { e: 0, eid: 'b', ts: 2 }, ctx: { user: '2', votes: 10 } }
      // The numbers kept before the reload already hold a and b ...
      const kept = addEvents(emptyTally(0), [a, b], 0)
      // ... and the reload's resumed gap delivers them again.
      const event$ = hot<ReceivedEvent>('--a-b', { a: { ...a, resumed: true }, b: { ...b, resumed: true } })
      const view = targetView(
        { event$, control$: hot<ControlPayload>('-'), status$: hot<ConnectionStatus>('l', { l: { state: 'live', since: 0 } }), diagnostic$: cold<Diagnostic>('-') },
        { kept, announceEveryMs: 5 },
      )
      const until = '^ 10ms !'
      // The feed does not change: nothing new arrived.
      expectObservable(view.feed$.pipe(map((rows) => rows.length)), until).toBe('a', { a: 2 })
      // So a screen reader should hear nothing; it hears "2 new events".
      expectObservable(view.feedAnnouncement$, until).toBe('')
    })
  })
})
