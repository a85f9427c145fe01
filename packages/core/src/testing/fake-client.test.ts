import { map, scan } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { ofEvent } from '../operators/of-event.js'
import { EventName } from '../protocol/events.js'
import { fatesEvent, receivedEvent } from './builders.js'
import { fakeClient } from './fake-client.js'

describe('fakeClient', () => {
  it('serves the given streams to code under test, with their subscriptions', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable, expectSubscriptions }) => {
      const vote = receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 5 }))
      const view = receivedEvent(fatesEvent(EventName.BotView, { user: '2' }))
      const event$ = cold('-a-b-a|', { a: vote, b: view })
      const client = fakeClient({ event$ })
      const votesSeen = client.event$.pipe(ofEvent(EventName.BotVote), scan((n) => n + 1, 0))
      expectObservable(votesSeen).toBe('-x---y|', { x: 1, y: 2 })
      expectSubscriptions(event$.subscriptions).toBe('^-----!')
    })
  })

  it('never emits on streams left out, and counts close() and reconnect()', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ expectObservable }) => {
      const client = fakeClient()
      expectObservable(client.status$.pipe(map((s) => s.state))).toBe('')
      expectObservable(client.control$).toBe('')
      client.close()
      client.reconnect()
      client.reconnect()
      expect(client.calls).toEqual({ close: 1, reconnect: 2 })
    })
  })
})
