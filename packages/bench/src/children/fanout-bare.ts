/**
 * The limit for section 4: a bare `ws` server that answers the handshake without checking
 * anything and broadcasts what is published, serialized once, in one frame per chunk of
 * events (the original's batched form, `E1\x1f\x1fE2\x1f`) to every ready client. No store,
 * no validation, no per-client queue. It speaks the same IPC as fanout-server.ts, so the two
 * run interchangeably.
 *
 * @packageDocumentation
 */
import { Protocol } from '@fates-rx/core/protocol'
import { identityPayload, joinFrames, readyPayload, wrapEvent } from '@fates-rx/core/testing'
import { WebSocketServer, type WebSocket } from 'ws'
import { nowMicros } from '../child.js'
import { benchEvent, memoryStats, PUBLISH_CHUNK } from '../fanout-shared.js'
import type { FanoutServerCommand, FanoutServerHello, FanoutServerReply } from '../ipc.js'

const tell = (message: FanoutServerReply | FanoutServerHello): void => void process.send?.(message)

const ready = new Set<WebSocket>()
const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
server.on('connection', (socket) => {
  // A short identity text, as this broadcaster always sent: the bytes of its handshake stay
  // those the handshake ratio was recorded with.
  socket.send(JSON.stringify(identityPayload({ detail: 'Send Bot ID and API Token', ts: Math.floor(Date.now() / 1000) })))
  socket.once('message', () => {
    socket.send(JSON.stringify(readyPayload(Protocol.identifyCost, { ts: Math.floor(Date.now() / 1000) })))
    ready.add(socket)
  })
  socket.on('close', () => ready.delete(socket))
})

async function publish(total: number): Promise<void> {
  const startAt = nowMicros()
  for (let seq = 0; seq < total; ) {
    const batch: string[] = []
    for (let i = 0; i < PUBLISH_CHUNK && seq < total; i++, seq++) batch.push(JSON.stringify(wrapEvent(benchEvent(seq), 'global')))
    const frame = joinFrames(...batch)
    for (const socket of ready) socket.send(frame)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  tell({ type: 'published', startAt, endAt: nowMicros() })
}

process.on('message', (command: FanoutServerCommand) => {
  if (command.type === 'publish') void publish(command.count)
  else if (command.type === 'stats') tell({ type: 'stats', ...memoryStats() })
})
process.on('disconnect', () => {
  for (const socket of ready) socket.terminate()
  server.close(() => process.exit(0))
})
server.on('listening', () => {
  const address = server.address()
  if (typeof address === 'string' || address === null) throw new Error('no port')
  tell({ url: `ws://127.0.0.1:${address.port}/ws` })
})
