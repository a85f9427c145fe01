/**
 * The baseline of section publish: a bare `node:http` + `ws` server that accepts the same
 * `POST /publish` bodies as the server (one `{channel, event}` or an array of them), parses
 * them with `JSON.parse`, wraps each event as the original did with `JSON.stringify` and
 * broadcasts one frame per request (`E1\x1f\x1fE2\x1f…`) to every ready client. No token
 * check, no validation, no store, no eids, no queue: what is left is the cost of HTTP,
 * parsing, serializing and the socket, the floor under any server.
 *
 * @packageDocumentation
 */
import { createServer } from 'node:http'
import { Protocol } from '@fates-rx/core/protocol'
import { identityPayload, joinFrames, readyPayload, wrapEvent } from '@fates-rx/core/testing'
import type { FatesEvent } from '@fates-rx/core'
import { WebSocketServer, type WebSocket } from 'ws'
import type { PublishServerHello } from '../ipc.js'

interface Request {
  readonly channel: string
  readonly event: FatesEvent
}

const ready = new Set<WebSocket>()
const http = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Request | Request[]
    const requests = Array.isArray(body) ? body : [body]
    const frame = joinFrames(...requests.map(({ channel, event }) => JSON.stringify(wrapEvent(event, channel))))
    for (const socket of ready) socket.send(frame)
    const text = '{}'
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length })
    res.end(text)
  })
})
const wss = new WebSocketServer({ server: http, path: '/ws' })
wss.on('connection', (socket) => {
  socket.send(JSON.stringify(identityPayload({ ts: Math.floor(Date.now() / 1000) })))
  socket.once('message', () => {
    socket.send(JSON.stringify(readyPayload(Protocol.identifyCost, { ts: Math.floor(Date.now() / 1000) })))
    ready.add(socket)
  })
  socket.on('close', () => ready.delete(socket))
})
http.listen(0, '127.0.0.1', () => {
  const address = http.address()
  if (typeof address === 'string' || address === null) throw new Error('no port')
  const hello: PublishServerHello = { port: address.port }
  process.send?.(hello)
})
process.on('disconnect', () => {
  for (const socket of ready) socket.terminate()
  http.close(() => process.exit(0))
  http.closeAllConnections()
})
