// Test doubles for the client: a scripted WebSocket and a virtual clock. Not part of the build.
import { VirtualTimeScheduler } from 'rxjs'
import type { WebSocketConstructor, WebSocketLike } from '../socket/index.js'

export const identityFrame = JSON.stringify({ code: 'identity', detail: 'Send Bot ID…', ts: 1, requests_remaining: -1, control: true })
export const control = (code: string, remaining: number, detail = '') =>
  JSON.stringify({ code, detail, ts: 1, requests_remaining: remaining, control: true })
export const eventFrame = (eid: string, ts = 1, extra: object = {}) =>
  JSON.stringify({ chan: 'bot-1', code: 'event', control: false, dat: { m: { e: 0, eid, t: -1, ts }, ctx: { user: '1' } }, detail: null, ...extra })

/** One fake socket: the test plays the server through open(), frame(), closeFromServer(). */
export class FakeSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null
  readonly sent: string[] = []
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(data)
  }
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason }
  }
  private opened = false
  open(): this {
    if (this.opened) return this
    this.opened = true
    this.onopen?.({})
    return this
  }
  frame(data: string): this {
    this.onmessage?.({ data })
    return this
  }
  closeFromServer(code: number, reason = ''): void {
    this.onclose?.({ code, reason })
  }
  /** Opens, sends identity, and answers the identify with ready. */
  handshake(remaining = 18): this {
    this.open().frame(identityFrame)
    return this.frame(control('ready', remaining, 'Waiting for messages with 2 already made'))
  }
}

/** A WebSocket constructor that records every socket it makes. */
export function fakeWebSockets(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[]; last: () => FakeSocket } {
  const sockets: FakeSocket[] = []
  const WebSocket = class extends FakeSocket {
    constructor(url: string) {
      super(url)
      sockets.push(this)
    }
  }
  return {
    WebSocket,
    sockets,
    last: () => {
      const socket = sockets.at(-1)
      if (socket === undefined) throw new Error('no socket was opened')
      return socket
    },
  }
}

/** A virtual clock whose time moves only when the test says so. */
export class Clock extends VirtualTimeScheduler {
  /** Runs everything due within `ms` and leaves the clock exactly `ms` later. */
  advance(ms: number): void {
    const target = this.frame + ms
    this.maxFrames = target
    this.flush()
    this.frame = target
  }
}
