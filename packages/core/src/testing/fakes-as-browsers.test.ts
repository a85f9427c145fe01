// The test kit's fakes against the WHATWG WebSocket (a review's findings, 2026-12-08): a test
// that passes against them should pass against a browser's socket.
import { of, throwError, VirtualTimeScheduler } from 'rxjs'
import { describe, expect, it } from 'vitest'
import type { WebSocketLike } from '../socket/index.js'
import { joinFrames, identityPayload } from './builders.js'
import { fakeWebSockets } from './fake-web-socket.js'
import { scriptedWebSockets } from './scripted-web-socket.js'

/** Records the events a socket fires, in order. */
function record(socket: WebSocketLike): string[] {
  const seen: string[] = []
  socket.onopen = () => seen.push('open')
  socket.onmessage = () => seen.push('message')
  socket.onerror = () => seen.push('error')
  socket.onclose = (e) => seen.push(`close ${e.code}`)
  return seen
}

describe('scriptedWebSockets vs the WHATWG WebSocket', () => {
  it('close() while CONNECTING: never opens, never plays the script, closes with 1006 after an error', () => {
    const scheduler = new VirtualTimeScheduler()
    let scripted = 0
    const server = scriptedWebSockets(
      [
        () => {
          scripted++
          return of(joinFrames(identityPayload()))
        },
      ],
      { scheduler },
    )
    const socket = new server.WebSocket('ws://x/ws')
    const seen = record(socket)
    socket.close(1000)
    scheduler.flush()
    expect(scripted).toBe(0)
    expect(seen).toEqual(['error', 'close 1006'])
  })

  it('send() after the server closed does not throw (CLOSED: the data is discarded)', () => {
    const scheduler = new VirtualTimeScheduler()
    const server = scriptedWebSockets([of({ close: 4000 })], { scheduler })
    const socket = new server.WebSocket('ws://x/ws')
    record(socket)
    scheduler.flush()
    expect(server.sockets[0]?.closed?.code).toBe(4000)
    expect(() => socket.send('late')).not.toThrow()
  })

  it('an unreachable server (no script left) fires error before close 1006', () => {
    const scheduler = new VirtualTimeScheduler()
    const server = scriptedWebSockets([], { scheduler })
    const socket = new server.WebSocket('ws://x/ws')
    const seen = record(socket)
    scheduler.flush()
    expect(seen).toEqual(['error', 'close 1006'])
  })

  it('close() with a code a browser refuses throws InvalidAccessError', () => {
    const scheduler = new VirtualTimeScheduler()
    const server = scriptedWebSockets([of()], { scheduler })
    const socket = new server.WebSocket('ws://x/ws')
    record(socket)
    scheduler.flush()
    expect(() => socket.close(1001)).toThrow(/InvalidAccessError/)
  })
})

describe('fakeWebSockets vs the WHATWG WebSocket', () => {
  it('send() before open throws InvalidStateError, as the scripted socket does', () => {
    const fakes = fakeWebSockets()
    const socket = new fakes.WebSocket('ws://x/ws')
    record(socket)
    expect(() => socket.send('too early')).toThrow(/InvalidStateError/)
  })
})

describe('a dropped connection fires error before close, as a WebSocket does', () => {
  it('scripted: a script that errors (a drop)', () => {
    const scheduler = new VirtualTimeScheduler()
    const server = scriptedWebSockets([throwError(() => new Error('drop'))], { scheduler })
    const socket = new server.WebSocket('ws://x/ws')
    const seen = record(socket)
    scheduler.flush()
    expect(seen).toEqual(['open', 'error', 'close 1006'])
  })

  it('fake: closeFromServer(1006), which "plays a dropped connection"', () => {
    const fakes = fakeWebSockets()
    new fakes.WebSocket('ws://x/ws')
    const socket = fakes.last()
    const seen = record(socket)
    socket.open()
    socket.closeFromServer(1006)
    expect(seen).toEqual(['open', 'error', 'close 1006'])
  })
})

describe('fakeWebSockets close() codes', () => {
  it('close() with a code a browser refuses throws InvalidAccessError', () => {
    const fakes = fakeWebSockets()
    new fakes.WebSocket('ws://x/ws')
    const socket = fakes.last()
    record(socket)
    socket.open()
    expect(() => socket.close(1001)).toThrow(/InvalidAccessError/)
  })
})
