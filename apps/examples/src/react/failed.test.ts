import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { connect } from '@fates-rx/core'
import { rejectIdentify, scriptedWebSockets } from '@fates-rx/core/testing'
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { VoteCount } from './VoteCount.js'

beforeAll(() => {
  GlobalRegistrator.register()
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
})
afterAll(() => GlobalRegistrator.unregister())

// A wrong token stops the client for good (`failed`, no retry): the page must say so, not
// look like a bot nobody votes for.
describe('examples/react: a client that failed', () => {
  it('shows why instead of "No votes yet"', async () => {
    const token = 'wrong-secret-token'
    const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token, WebSocket: server.WebSocket })
    const container = document.createElement('div')
    const root = createRoot(container)
    await act(async () => root.render(createElement(VoteCount, { client })))
    await act(() => vi.waitFor(() => expect(server.sockets[0]?.closed).toBeDefined()))
    expect(container.textContent).toMatch(/^Not connected: .*invalid_auth/)
    expect(container.innerHTML).not.toContain(token)
    await act(async () => root.unmount())
  })
})
