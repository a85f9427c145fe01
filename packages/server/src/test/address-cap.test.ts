// The per-address connection cap over real sockets: the connection over it gets 429 at the
// upgrade, the others are untouched, and a place freed by a close can be taken again.
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { RunningServer } from '../start.js'
import { startTestServer, TestClient } from './harness.js'

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

/** The upgrade's answer: 101 (opened), or the HTTP status it was refused with. */
function upgrade(url: string): Promise<{ status: number; retryAfter?: string | undefined; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    ws.once('open', () => resolve({ status: 101, ws }))
    ws.once('unexpected-response', (_request, response) => {
      resolve({ status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'], ws })
      response.resume()
    })
    ws.once('error', reject)
  })
}

describe('maxConnectionsPerAddress', () => {
  it('answers 429 to the connection over the cap, keeps the others, and admits again after a close', async () => {
    const lines: string[] = []
    server = await startTestServer({ maxConnectionsPerAddress: 2, logger: { info: (l) => lines.push(l), error: () => {} } })
    const a = await TestClient.open(server.url)
    const b = await TestClient.open(server.url)
    clients.push(a, b)
    const over = await upgrade(server.url)
    expect(over.status).toBe(429)
    expect(over.retryAfter).toBe('10')
    expect(lines).toContain('refused an upgrade from 127.0.0.1: over 2 connections from that address')
    expect(a.ws.readyState).toBe(WebSocket.OPEN)
    expect(b.ws.readyState).toBe(WebSocket.OPEN)
    await a.close()
    // The server sees the close a moment after the client does.
    let again = await upgrade(server.url)
    for (let i = 0; i < 50 && again.status !== 101; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      again = await upgrade(server.url)
    }
    expect(again.status).toBe(101)
    again.ws.terminate()
  })

  it('has no cap by default on an origin', async () => {
    server = await startTestServer()
    for (let i = 0; i < 40; i++) clients.push(await TestClient.open(server.url))
    expect(server.server.connections).toBe(40)
  })
})
