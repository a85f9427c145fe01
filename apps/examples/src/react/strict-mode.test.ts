import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { connect, EventName } from '@fates-rx/core'
import { acceptIdentify, fatesEvent, joinFrames, scriptedWebSockets, wrapEvent } from '@fates-rx/core/testing'
import { act, createElement, StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { of } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { VoteCount } from './VoteCount.js'

beforeAll(() => {
  GlobalRegistrator.register()
  ;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true
})
afterAll(() => GlobalRegistrator.unregister())

// StrictMode (development) mounts, unmounts and mounts again at once: the lazy client must not
// close its socket in between only to open another.
describe('examples/react under StrictMode', () => {
  it('opens one socket, identifies once, and closes it on unmount', async () => {
    const server = scriptedWebSockets([
      acceptIdentify(of(joinFrames(wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 }))))),
      acceptIdentify(of(joinFrames(wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 }))))),
    ])
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token: 'secret', WebSocket: server.WebSocket })
    const container = document.createElement('div')
    const root = createRoot(container)
    await act(async () => root.render(createElement(StrictMode, null, createElement(VoteCount, { client }))))
    await act(() => vi.waitFor(() => expect(container.textContent).toBe('57 votes')))
    const identifies = server.sockets.flatMap((s) => s.sent).filter((m) => m.includes('"token"'))
    expect(identifies).toHaveLength(1)
    expect(server.sockets).toHaveLength(1)
    await act(async () => root.unmount())
    await vi.waitFor(() => expect(server.sockets[0]?.closedByClient?.code).toBe(1000))
  })
})
