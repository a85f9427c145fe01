// A relay's readiness over real sockets: an upstream that never comes live (silent TCP, no
// `identity`, a 5xx) makes /healthz answer 503 once a viewer opened it; a live one, 200.
import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import type { RunningServer } from '../start.js'
import { startServer } from '../start.js'
import { identified, RecordedBot, startTestServer, type TestClient } from './harness.js'

const ViewerToken = 'viewer-token-public'

const cleanups: (() => Promise<void> | void)[] = []
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function listening<T extends Server | TcpServer>(server: T): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

/** Upstreams that never come live. */
const NeverLive: readonly (readonly [string, () => Promise<string>])[] = [
  [
    'a silent TCP peer',
    async () => {
      const sockets: Socket[] = []
      const server = createTcpServer((socket) => void sockets.push(socket))
      const port = await listening(server)
      cleanups.push(() => new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }))
      return `ws://127.0.0.1:${port}/ws`
    },
  ],
  [
    'a websocket server that never sends identity',
    async () => {
      const server = createHttpServer()
      const wss = new WebSocketServer({ server })
      const port = await listening(server)
      cleanups.push(() => new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate()
        wss.close()
        server.close(() => resolve())
      }))
      return `ws://127.0.0.1:${port}/ws`
    },
  ],
  [
    'a server answering 503',
    async () => {
      const server = createHttpServer((_request, response) => response.writeHead(503).end())
      server.on('upgrade', (_request, socket) => socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))
      const port = await listening(server)
      cleanups.push(() => new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }))
      return `ws://127.0.0.1:${port}/ws`
    },
  ],
]

async function relayTo(upstream: string): Promise<RunningServer> {
  const relay = await startServer({
    host: '127.0.0.1',
    port: 0,
    bots: [{ id: RecordedBot.id, token: ViewerToken }],
    relay: { upstream, bots: [{ id: RecordedBot.id, token: RecordedBot.token }] },
  })
  cleanups.push(() => relay.close())
  return relay
}

async function healthz(server: RunningServer): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/healthz`)
  return { status: response.status, body: await response.json() }
}

describe('a relay’s /healthz', () => {
  it.each(NeverLive)('answers 503 while its upstream, %s, has never come live', async (_what, upstream) => {
    const relay = await relayTo(await upstream())
    // No viewer yet: nothing opened, nothing wrong.
    expect(await healthz(relay)).toEqual({ status: 200, body: { status: 'ready', upstreams: { [`bot-${RecordedBot.id}`]: 'idle' } } })
    const { client } = await identified(relay, { token: ViewerToken })
    clients.push(client)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await healthz(relay)).toEqual({ status: 503, body: { status: 'not ready', upstreams: { [`bot-${RecordedBot.id}`]: 'connecting' } } })
  })

  it('answers 200 once its upstream is live', async () => {
    const origin = await startTestServer()
    cleanups.push(() => origin.close())
    const relay = await relayTo(origin.url)
    const { client } = await identified(relay, { token: ViewerToken })
    clients.push(client)
    let health = await healthz(relay)
    for (let i = 0; i < 100 && health.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      health = await healthz(relay)
    }
    expect(health).toEqual({ status: 200, body: { status: 'ready', upstreams: { [`bot-${RecordedBot.id}`]: 'live' } } })
  })
})
