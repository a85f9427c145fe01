// What the client counts and says at the edges of its life: refused upgrades in a row, the
// sockets a subscriber costs, what close() says of a closed client, and the reconnects metrics$
// counts (a review's findings, each seen failing on the code before its fix).
import { takeWhile } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { Clock, fakeWebSockets } from '../../test-support/frames.js'
import { id, token } from '../../test-support/virtual-client.js'
import { resolveOptions } from '../options.js'
import { connect } from './connect.js'
import { type Effect, initialState, type MachineInput, MaxRefusedUpgrades, step } from './machine.js'

describe('refused upgrades are counted in a row only', () => {
  it('does not count refusals from before a connection that reached ready and was then replaced by reconnect()', () => {
    const cfg = resolveOptions({ url: 'ws://127.0.0.1:9/ws', id: '42', token, backoff: { initialDelayMs: 1, maxDelayMs: 1 } })
    let state = initialState(0)
    let at = 0
    const feed = (input: MachineInput): Effect[] => {
      const result = step(state, input, cfg)
      state = result.state
      return [...result.effects]
    }
    const open = (): number => {
      at += 1000
      feed({ type: 'credentials', at, url: 'ws://x/ws', id: '42', token })
      feed({ type: 'open-now', at })
      return state.connection?.socket as number
    }
    const refuse = (): Effect[] => {
      const socket = open()
      const effects = feed({ type: 'closed', at, socket, code: 1006, reason: '', httpStatus: 400, jitter: 0 })
      feed({ type: 'timer', at, timer: 'retry', jitter: 0 })
      return effects
    }
    const lastStatus = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'status' ? [e.status] : [])).at(-1)
    feed({ type: 'subscribed', at })
    for (let i = 1; i < MaxRefusedUpgrades; i++) expect(lastStatus(refuse())?.state).toBe('reconnecting')
    // The url is right after all: a connection reaches ready and stays live.
    const socket = open()
    feed({ type: 'opened', at, socket })
    feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'identity', control: true } } })
    feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'ready', control: true, requests_remaining: 18 } } })
    expect(state.status.state).toBe('live')
    at += 3_600_000
    // The user asks for a fresh connection (or a liveness timeout replaces it): no close input.
    feed({ type: 'reconnect', at })
    // One refusal (a gateway blip during a deploy) must not make "3 in a row".
    expect(lastStatus(refuse())?.state).toBe('reconnecting')
  })
})

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
