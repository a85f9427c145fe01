import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { fakeClient, fatesEvent, receivedEvent } from '@fates-rx/core/testing'
import { Subject } from 'rxjs'
import { afterAll, describe, expect, it } from 'vitest'

// The composable in a component, rendered on the server (Nuxt, vite-ssr) and mounted in a page.
// Vue's DOM renderer reads `document` when it loads: happy-dom first, then Vue.
GlobalRegistrator.register()
afterAll(() => GlobalRegistrator.unregister())
const { createApp, createSSRApp, defineComponent, h, nextTick } = await import('vue')
const { renderToString } = await import('vue/server-renderer')
const { useVotes } = await import('./use-votes.js')

function voteCount(event$: Subject<ReceivedEvent>) {
  const client = fakeClient({ event$ })
  return defineComponent({
    setup() {
      const votes = useVotes(client)
      return () => h('p', votes.value === undefined ? 'No votes yet' : `${votes.value} votes`)
    },
  })
}

describe('examples/vue: useVotes in a component', () => {
  it('leaves no subscription behind after a server render (each would hold the socket open)', async () => {
    const event$ = new Subject<ReceivedEvent>()
    expect(await renderToString(createSSRApp(voteCount(event$)))).toBe('<p>No votes yet</p>')
    expect(event$.observed).toBe(false)
  })

  it('subscribes while mounted in a page and unsubscribes on unmount', async () => {
    const event$ = new Subject<ReceivedEvent>()
    const app = createApp(voteCount(event$))
    const root = document.createElement('div')
    app.mount(root)
    expect(event$.observed).toBe(true)
    event$.next(receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 })))
    await nextTick()
    expect(root.textContent).toBe('57 votes')
    app.unmount()
    expect(event$.observed).toBe(false)
  })
})
