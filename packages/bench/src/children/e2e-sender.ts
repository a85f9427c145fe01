/**
 * The bare `ws` sender for the end-to-end section, run in its own process (so that it has a
 * core of its own and the measure is the receiver's). It speaks just enough of the protocol
 * for `connect()` — `identity`, then `ready` after any identify — and then either floods the
 * corpus as fast as the socket drains, or paces events with its send time in each one.
 *
 * Started by e2e.ts with IPC; it reports `{ port }` once listening. The path of each
 * connection says what to do: `/flood?payloads=N` or `/paced?rate=R&seconds=S&perFrame=K`.
 *
 * @packageDocumentation
 */
import { Protocol } from '@fates-rx/core/protocol'
import { identityPayload, readyPayload, wrapEvent } from '@fates-rx/core/testing'
import { WebSocketServer, type WebSocket } from 'ws'
import { buildCorpora } from '../corpus.js'
import type { SenderHello } from '../ipc.js'

const [perFrameArg, payloadsArg] = process.argv.slice(2)
const perFrame = Number(perFrameArg ?? 10)
const payloads = Number(payloadsArg ?? 200_000)
// Live traffic: events only, each once (controls and replays belong to the handshake, which
// section 1 covers), so that a deduplicating receiver delivers exactly what was sent.
const [corpus] = buildCorpora([perFrame], { payloads, controlShare: 0, repeatShare: 0 })
if (corpus === undefined) throw new Error('no corpus')

/** Stop writing while this much is queued in the socket; resume when a send completes. */
const HIGH_WATER = 4 * 1024 * 1024

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function flood(socket: WebSocket, frames: readonly string[]): void {
  let next = 0
  const pump = (): void => {
    while (next < frames.length && socket.readyState === socket.OPEN) {
      const frame = frames[next++] as string
      if (socket.bufferedAmount > HIGH_WATER) {
        // Resume from the callback of a send: it fires once this frame is written out.
        socket.send(frame, () => setImmediate(pump))
        return
      }
      socket.send(frame)
    }
  }
  pump()
}

/** The microseconds of the monotonic clock, which every process on this machine shares. */
function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

function paced(socket: WebSocket, rate: number, seconds: number, batch: number): void {
  const total = Math.round(rate * seconds)
  const framesPerSecond = rate / batch
  let sent = 0
  let seq = 0
  const start = process.hrtime.bigint()
  // Timers tick in whole milliseconds, which would send 5 frames at once at 5000 frames/s and
  // charge the receiver's work on the first four to the last; spinning on setImmediate would
  // burn a core the receiver needs. So the sender sleeps (Atomics.wait, sub-millisecond)
  // until the next frame is due, then lets its event loop turn once.
  const tick = (): void => {
    if (socket.readyState !== socket.OPEN) return
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9
    const due = Math.min(total, Math.floor(elapsed * framesPerSecond) * batch)
    while (sent < due) {
      const sentAt = nowMicros()
      let frame = ''
      for (let i = 0; i < batch && sent < total; i++, sent++) {
        const event = JSON.stringify(
          wrapEvent(
            {
              ctx: { sent: sentAt, seq: seq++, test: false, user: '563808552288780322', votes: 57 },
              m: { e: 0, eid: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`, t: -1, ts: Date.now() / 1000 },
            },
            'bot-811073947382579200',
          ),
        )
        frame += i === 0 ? event + Protocol.separator : Protocol.separator + event + Protocol.separator
      }
      socket.send(frame)
    }
    if (sent >= total) return
    const nextDue = Math.floor(sent / batch + 1) / framesPerSecond
    const wait = nextDue * 1000 - Number(process.hrtime.bigint() - start) / 1e6
    if (wait > 0) Atomics.wait(sleeper, 0, 0, wait)
    setImmediate(tick)
  }
  tick()
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
server.on('connection', (socket, request) => {
  const url = new URL(request.url ?? '/', 'ws://localhost')
  const ts = Math.floor(Date.now() / 1000)
  // A short identity text, as this sender always sent: its handshake is not what is measured.
  socket.send(JSON.stringify(identityPayload({ detail: 'Send Bot ID and API Token as id and token keys in json format.', ts })))
  socket.once('message', () => {
    socket.send(JSON.stringify(readyPayload(Protocol.identifyCost, { ts: Math.floor(Date.now() / 1000) })))
    if (url.pathname === '/flood') flood(socket, corpus.frames)
    else if (url.pathname === '/paced')
      paced(
        socket,
        Number(url.searchParams.get('rate') ?? 50_000),
        Number(url.searchParams.get('seconds') ?? 3),
        Number(url.searchParams.get('perFrame') ?? 10),
      )
    else socket.close(4000, 'unknown path')
  })
})
server.on('listening', () => {
  const address = server.address()
  if (typeof address === 'string' || address === null) throw new Error('no port')
  const hello: SenderHello = { port: address.port, payloads: corpus.payloads, controls: corpus.controls, repeats: corpus.repeats, frames: corpus.frames.length }
  process.send?.(hello)
})
process.on('disconnect', () => server.close(() => process.exit(0)))
