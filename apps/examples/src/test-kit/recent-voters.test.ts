// How to test your own code with the test kit. Everything comes from the public entry points:
// `@fates-rx/core` and `@fates-rx/core/testing`; rxjs's TestScheduler supplies the marbles.
import { connect, EventName } from '@fates-rx/core'
import {
  acceptIdentify,
  donePriorPayload,
  fakeClient,
  fatesEvent,
  joinFrames,
  receivedEvent,
  scriptedWebSockets,
  wrapEvent,
} from '@fates-rx/core/testing'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { recentVoters } from './recent-voters.js'

const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const vote = (user: string, votes: number, test = false) => fatesEvent(EventName.BotVote, { user, votes, test })

describe('recentVoters (an example of testing with @fates-rx/core/testing)', () => {
  it('with a fake client: values and subscriptions as marbles', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const event$ = cold('a-b-c-t-a-v|', {
        a: receivedEvent(vote('1', 1)),
        b: receivedEvent(vote('2', 2)),
        c: receivedEvent(vote('3', 3)),
        t: receivedEvent(vote('4', 4, true)),
        v: receivedEvent(fatesEvent(EventName.BotView, { user: '5' })),
      })
      expectObservable(recentVoters(fakeClient({ event$ }), 2)).toBe('x-y-z---w--|', {
        x: ['1'],
        y: ['2', '1'],
        z: ['3', '2'],
        w: ['1', '3'],
      })
      expectSubscriptions(event$.subscriptions).toBe('^----------!')
    })
  })

  it('with connect() and a scripted server: a replay after a drop does not count a vote twice', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const first = vote('1', 1)
      const second = vote('2', 2)
      const server = scriptedWebSockets([
        // An empty replay (done_prior at 1 ms), one live vote at 3 ms, then a drop at 5 ms.
        acceptIdentify(
          cold('-a-b-(c|)', { a: joinFrames(donePriorPayload()), b: joinFrames(wrapEvent(first)), c: { close: 1006 } }),
        ),
        // After reconnecting: the replay holds the vote already seen, and one that was missed.
        acceptIdentify(cold('-a-(b|)', { a: joinFrames(wrapEvent(first), wrapEvent(second)), b: joinFrames(donePriorPayload()) })),
      ])
      const client = connect({
        url: 'ws://127.0.0.1:9/ws',
        id: '811073947382579200',
        token: 'test-token',
        sendAll: true,
        WebSocket: server.WebSocket,
        backoff: { initialDelayMs: 100 },
        random: () => 0.5, // a 50 ms backoff
      })
      // The second session opens at 55 ms; its replay is held until done_prior (58 ms), then
      // delivered in timestamp order without the vote seen before.
      expectObservable(recentVoters(client), '^ 100ms !').toBe('---a 54ms b', { a: ['1'], b: ['2', '1'] })
    })
  })
})
