import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { EventName } from '@fates-rx/core'
import { fakeClient, fatesEvent, receivedEvent } from '@fates-rx/core/testing'
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { renderToString } from 'react-dom/server'
import { Subject } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '@fates-rx/core'
import { observableStore } from './use-observable.js'
import { VoteCount } from './VoteCount.js'

// A real React render into happy-dom's document: the hook subscribes, re-renders per vote and
// unsubscribes on unmount.
beforeAll(() => {
  GlobalRegistrator.register()
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
})
afterAll(() => GlobalRegistrator.unregister())

const vote = (votes: number) => receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes }))

describe('examples/react', () => {
  it('renders the latest vote count and unsubscribes on unmount', async () => {
    const event$ = new Subject<ReceivedEvent>()
    const container = document.createElement('div')
    const root = createRoot(container)
    await act(async () => root.render(createElement(VoteCount, { client: fakeClient({ event$ }) })))
    expect(container.textContent).toBe('No votes yet')
    expect(event$.observed).toBe(true)

    await act(async () => event$.next(vote(57)))
    expect(container.textContent).toBe('57 votes')
    await act(async () => event$.next(receivedEvent(fatesEvent(EventName.BotView, { user: '2' }))))
    expect(container.textContent).toBe('57 votes')

    await act(async () => root.unmount())
    expect(event$.observed).toBe(false)
  })

  it('renders on the server with the initial value', () => {
    expect(renderToString(createElement(VoteCount, { client: fakeClient() }))).toBe('<p class="votes">No votes yet</p>')
  })

  it('keeps a stable snapshot between emissions, as useSyncExternalStore requires', () => {
    const source = new Subject<number>()
    const store = observableStore(source, 0)
    let changes = 0
    const unsubscribe = store.subscribe(() => changes++)
    expect(store.getSnapshot()).toBe(0)
    source.next(3)
    expect([store.getSnapshot(), store.getSnapshot(), changes]).toEqual([3, 3, 1])
    unsubscribe()
    expect(source.observed).toBe(false)
  })
})
