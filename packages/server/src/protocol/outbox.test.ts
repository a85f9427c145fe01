import { describe, expect, it } from 'vitest'
import { Outbox } from './outbox.js'
import type { ProtocolSocket } from './socket.js'
import { encodeEvent } from '../wire/encode.js'

/** A socket that records frames and completes writes only when told to. */
function fakeSocket(): ProtocolSocket & { frames: string[]; buffered: number; complete(): void } {
  const pending: (() => void)[] = []
  return {
    frames: [],
    buffered: 0,
    get bufferedAmount() {
      return this.buffered
    },
    send(frame, written) {
      this.frames.push(typeof frame === 'string' ? frame : frame.toString('utf8'))
      pending.push(() => written())
    },
    complete() {
      for (const done of pending.splice(0)) done()
    },
    close() {},
    terminate() {},
    ping() {},
  }
}

const limits = { highWaterBytes: 100, maxFrameChars: 1_000, maxQueuedEvents: 10 }
const event = (n: number) => encodeEvent('global', { n })
const text = (n: number) => event(n).text

describe('Outbox', () => {
  it('writes a control alone, then the queued events in one frame', () => {
    const socket = fakeSocket()
    const outbox = new Outbox(socket, limits, (o) => o, () => {})
    outbox.control('C')
    outbox.event(event(1))
    outbox.event(event(2))
    outbox.control('D')
    outbox.event(event(3))
    outbox.flush()
    expect(socket.frames).toEqual(['C', `${text(1)}\x1f\x1f${text(2)}\x1f`, 'D', `${text(3)}\x1f`])
  })

  it('pauses above the high-water mark and drains the backlog as one frame after a write completes', () => {
    const socket = fakeSocket()
    const flushes: Outbox[] = []
    const outbox = new Outbox(socket, limits, (o) => void flushes.push(o), () => {})
    outbox.event(event(1))
    outbox.flush()
    socket.buffered = 500
    for (const n of [2, 3, 4]) outbox.event(event(n))
    outbox.flush()
    expect(socket.frames).toEqual([`${text(1)}\x1f`])
    expect(outbox.queuedEvents).toBe(3)
    socket.buffered = 0
    flushes.length = 0
    socket.complete()
    expect(flushes).toEqual([outbox])
    outbox.flush()
    expect(socket.frames.at(-1)).toBe(`${text(2)}\x1f\x1f${text(3)}\x1f\x1f${text(4)}\x1f`)
  })

  it('starts a new frame past maxFrameChars', () => {
    const socket = fakeSocket()
    const outbox = new Outbox(socket, { ...limits, maxFrameChars: text(1).length * 2 }, () => {}, () => {})
    for (const n of [1, 2, 3]) outbox.event(event(n))
    outbox.flush()
    expect(socket.frames).toEqual([`${text(1)}\x1f\x1f${text(2)}\x1f`, `${text(3)}\x1f`])
  })

  it('reports overflow and forgets the backlog when too many events queue up', () => {
    const socket = fakeSocket()
    let overflowed = 0
    const outbox = new Outbox(socket, { ...limits, maxQueuedEvents: 3 }, () => {}, () => overflowed++)
    for (const n of [1, 2, 3, 4]) outbox.event(event(n))
    expect(overflowed).toBe(1)
    expect(outbox.queuedEvents).toBe(0)
  })
})
