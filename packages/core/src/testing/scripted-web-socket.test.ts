import { map, timer } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import { connect } from '../client/connection/connect.js'
import { EventName } from '../protocol/events.js'
import { donePriorPayload, fatesEvent, joinFrames, wrapEvent } from './builders.js'
import { acceptIdentify, rejectIdentify, scriptedWebSockets } from './scripted-web-socket.js'
import { VirtualClock } from './virtual-clock.js'

const options = { url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token: 'tok-secret', random: () => 0.5 }
const vote = (votes: number) => joinFrames(wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes })))
const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('scriptedWebSockets with connect()', () => {
  it('plays an accepted session: the identify is answered, events arrive on the script timing', () => {
    marbles().run(({ cold, expectObservable, flush }) => {
      const server = scriptedWebSockets([acceptIdentify(cold('--a-b', { a: vote(1), b: vote(2) }))])
      const client = connect({ ...options, WebSocket: server.WebSocket })
      expectObservable(client.event$.pipe(map((e) => e.ctx['votes'])), '^ 10ms !').toBe('--a-b', { a: 1, b: 2 })
      expectObservable(client.status$.pipe(map((s) => s.state)), '^ 10ms !').toBe('(abc)', {
        a: 'connecting',
        b: 'identifying',
        c: 'live',
      })
      flush()
      const [socket] = server.sockets
      expect(socket?.url).toBe(options.url)
      expect(JSON.parse(socket?.sent[0] ?? '')).toEqual({ id: options.id, token: options.token, bot: true, send_all: false, send_none: false })
      // The last subscriber left at 10 ms: the client closed, and the close event followed.
      expect(socket?.closedByClient).toEqual({ code: 1000, reason: undefined })
      expect(socket?.closed).toEqual({ code: 1000, reason: '' })
    })
  })

  it('plays a rejection: the client fails without a second attempt', () => {
    marbles().run(({ expectObservable, flush }) => {
      const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
      const client = connect({ ...options, WebSocket: server.WebSocket })
      expectObservable(client.status$.pipe(map((s) => [s.state, s.close?.code, s.detail]))).toBe('(zabc)', {
        z: ['closed', undefined, 'Not opened yet: the connection opens on the first subscription.'],
        a: ['connecting', undefined, undefined],
        b: ['identifying', undefined, undefined],
        c: ['failed', 4004, 'invalid_auth: no rows in result set'],
      })
      flush()
      expect(server.sockets).toHaveLength(1)
    })
  })

  it('plays a ratelimited identify: the client waits for the window instead of failing', () => {
    marbles().run(({ expectObservable, flush }) => {
      const server = scriptedWebSockets([rejectIdentify('ratelimited')])
      const client = connect({ ...options, WebSocket: server.WebSocket })
      expectObservable(client.status$.pipe(map((s) => [s.state, s.close?.code, s.requestsRemaining])), '^ 1000ms !').toBe('(zabc)', {
        z: ['closed', undefined, undefined],
        a: ['connecting', undefined, undefined],
        b: ['identifying', undefined, undefined],
        c: ['reconnecting', 4012, -2],
      })
      flush()
      expect(server.sockets.map((s) => s.closed)).toEqual([{ code: 4012, reason: 'Ratelimited' }])
    })
  })

  it('decides from the close alone when the error payload lost the race', () => {
    marbles().run(({ expectObservable }) => {
      const server = scriptedWebSockets([rejectIdentify('invalid_auth', true)])
      const client = connect({ ...options, WebSocket: server.WebSocket })
      expectObservable(client.status$.pipe(map((s) => s.state))).toBe('(zabc)', {
        z: 'closed',
        a: 'connecting',
        b: 'identifying',
        c: 'failed',
      })
    })
  })

  it('reconnects after a scripted drop, and a connection beyond the last script fails like an unreachable server', () => {
    marbles().run(({ cold, expectObservable, flush }) => {
      const server = scriptedWebSockets([
        acceptIdentify(cold('-a-(b|)', { a: vote(1), b: { close: 1006 } })),
        // Resumed: the client identifies with send_all, so this server ends its (empty) replay first.
        acceptIdentify(cold('-(da)', { d: joinFrames(donePriorPayload()), a: vote(2) })),
      ])
      const client = connect({ ...options, WebSocket: server.WebSocket, backoff: { initialDelayMs: 100, maxAttempts: 3 } /* random 0.5: 50 ms */ })
      expectObservable(client.event$.pipe(map((e) => e.ctx['votes'])), '^ 2000ms !').toBe('-a 52ms b', { a: 1, b: 2 })
      flush()
      expect(server.sockets).toHaveLength(2)
      expect(server.sockets[0]?.closed).toEqual({ code: 1006, reason: '' })
    })
  })

  it('drops the connection (1006) when a script errors or runs out of sessions', () => {
    marbles().run(({ cold, expectObservable, flush }) => {
      const server = scriptedWebSockets([cold('#')])
      const client = connect({ ...options, WebSocket: server.WebSocket, backoff: { initialDelayMs: 50, maxAttempts: 1 } /* random 0.5: 25 ms */ })
      expectObservable(client.status$.pipe(map((s) => [s.state, s.close?.code])), '^ 1000ms !').toBe('(wxyz) 19ms (ab)', {
        w: ['closed', undefined],
        x: ['connecting', undefined],
        y: ['identifying', undefined],
        z: ['reconnecting', 1006],
        a: ['connecting', undefined],
        b: ['failed', 1006],
      })
      flush()
      expect(server.sockets.map((s) => s.closed?.code)).toEqual([1006, 1006])
    })
  })

  it('runs step by step on a VirtualClock shared with connect()', () => {
    const clock = new VirtualClock()
    const server = scriptedWebSockets([acceptIdentify(timer(5_000, clock).pipe(map(() => vote(7))))], { scheduler: clock })
    const client = connect({ ...options, WebSocket: server.WebSocket, scheduler: clock })
    const votes: unknown[] = []
    const subscription = client.event$.subscribe((e) => votes.push(e.ctx['votes']))
    clock.advance(0)
    expect(server.sockets[0]?.sent).toHaveLength(1)
    clock.advance(4_999)
    expect(votes).toEqual([])
    clock.advance(1)
    expect(votes).toEqual([7])
    subscription.unsubscribe()
    clock.advance(0)
    expect(server.sockets[0]?.closed?.code).toBe(1000)
  })

  it('refuses a send before open, as a browser socket does', () => {
    const server = scriptedWebSockets([])
    const socket = new server.WebSocket('ws://127.0.0.1:9/ws')
    expect(() => socket.send('x')).toThrow(/before the socket opened/)
  })
})
