import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { fakeClient, fatesEvent, receivedEvent } from '@fates-rx/core/testing'
import { Subject } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { computed, effectScope, watchEffect } from 'vue'
import { useVotes } from './use-votes.js'

// The composable runs in Node inside an effect scope, as it would inside a component's setup().
describe('examples/vue: useVotes', () => {
  it('tracks the latest vote reactively and unsubscribes when the scope stops', () => {
    const event$ = new Subject<ReceivedEvent>()
    const scope = effectScope()
    const seen: string[] = []
    scope.run(() => {
      const votes = useVotes(fakeClient({ event$ }))
      const label = computed(() => (votes.value === undefined ? 'No votes yet' : `${votes.value} votes`))
      watchEffect(() => seen.push(label.value), { flush: 'sync' })
    })
    expect(event$.observed).toBe(true)
    event$.next(receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 })))
    event$.next(receivedEvent(fatesEvent(EventName.BotView, { user: '1' })))
    event$.next(receivedEvent(fatesEvent(EventName.BotVote, { user: '2', votes: 58 })))
    expect(seen).toEqual(['No votes yet', '57 votes', '58 votes'])

    scope.stop()
    expect(event$.observed).toBe(false)
  })
})
