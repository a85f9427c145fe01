import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { connect } from '@fates-rx/core'
import { rejectIdentify, scriptedWebSockets } from '@fates-rx/core/testing'
import { afterAll, describe, expect, it, vi } from 'vitest'

// Vue's DOM renderer reads `document` when it loads: happy-dom first, then Vue.
GlobalRegistrator.register()
afterAll(() => GlobalRegistrator.unregister())
const { createApp, defineComponent, h } = await import('vue')
const { useFailure, useVotes } = await import('./use-votes.js')

// A wrong token stops the client for good (`failed`, no retry): the page must say so, not
// look like a bot nobody votes for.
describe('examples/vue: a client that failed', () => {
  it('useFailure says why instead of "No votes yet", over the same socket', async () => {
    const token = 'wrong-secret-token'
    const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token, WebSocket: server.WebSocket })
    const VoteCount = defineComponent({
      setup() {
        const votes = useVotes(client)
        const failure = useFailure(client)
        return () =>
          h('p', failure.value !== undefined ? `Not connected: ${failure.value}` : votes.value === undefined ? 'No votes yet' : `${votes.value} votes`)
      },
    })
    const app = createApp(VoteCount)
    const root = document.createElement('div')
    app.mount(root)
    await vi.waitFor(() => expect(root.textContent).toMatch(/^Not connected: .*invalid_auth/))
    expect(root.innerHTML).not.toContain(token)
    expect(server.sockets).toHaveLength(1)
    app.unmount()
  })
})
