// What the client counts and says at the edges of its life: the sockets a subscriber costs,
// what close() says of a closed client, and the reconnects metrics$ counts (a review's findings,
// each seen failing on the code before its fix; refusals in a row are in machine.test.ts).
import { takeWhile } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { Clock, fakeWebSockets } from '../../test-support/frames.js'
import { id, token } from '../../test-support/virtual-client.js'
import { connect } from './connect.js'

describe('a first subscriber that leaves on connecting', () => {
  it('costs no socket, as a later one does not', () => {
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock })
    const sub = client.status$.pipe(takeWhile((s) => s.state !== 'connecting')).subscribe()
    expect(sub.closed).toBe(true)
    expect(fakes.sockets).toHaveLength(0)
  })
})

describe('close() on a client that is closed already', () => {
  it('says that it stays closed, not that it opens on the first subscription', () => {
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock })
    client.close()
    const statuses: { state: string; detail?: string }[] = []
    const sub = client.status$.subscribe((status) => statuses.push(status))
    expect(fakes.sockets).toHaveLength(0)
    expect(statuses.at(-1)).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    sub.unsubscribe()
  })

  it('after the last subscriber left: the next subscriber is told it was closed by the user', () => {
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock })
    client.status$.subscribe().unsubscribe()
    expect(fakes.sockets).toHaveLength(1)
    client.close()
    const statuses: { state: string; detail?: string }[] = []
    const sub = client.status$.subscribe((status) => statuses.push(status))
    expect(fakes.sockets).toHaveLength(1)
    expect(statuses.at(-1)).toMatchObject({ state: 'closed', detail: 'Closed by the user.' })
    sub.unsubscribe()
  })
})

describe('metrics$ reconnects count connections replaced, not the one that gave up', () => {
  it('does not count the close after which the client gives up (maxAttempts)', () => {
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock, random: () => 0.5, backoff: { maxAttempts: 1 } })
    let reconnects: Readonly<Record<string, number>> = {}
    let state = ''
    client.metrics$.subscribe((m) => (reconnects = m.reconnects))
    client.status$.subscribe((s) => (state = s.state))
    fakes.last().closeFromServer(1006)
    expect(state).toBe('reconnecting')
    clock.advance(1_000)
    expect(fakes.sockets).toHaveLength(2)
    fakes.last().closeFromServer(1006)
    expect(state).toBe('failed')
    // One connection was replaced; the second close replaced none.
    expect(reconnects).toEqual({ 1006: 1 })
  })

  it('does not count a handshake timeout after which the client gives up', () => {
    const clock = new Clock()
    const fakes = fakeWebSockets()
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id, token, WebSocket: fakes.WebSocket, scheduler: clock, backoff: { maxAttempts: 0 } })
    let reconnects: Readonly<Record<string, number>> = {}
    let state = ''
    client.metrics$.subscribe((m) => (reconnects = m.reconnects))
    client.status$.subscribe((s) => (state = s.state))
    fakes.last().open()
    clock.advance(10_000)
    expect(state).toBe('failed')
    expect(fakes.sockets).toHaveLength(1)
    expect(reconnects).toEqual({})
  })
})
