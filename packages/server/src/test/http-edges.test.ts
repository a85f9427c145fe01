// The server's HTTP edges: the close codes /metrics labels, and the methods a 405 names.
import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { RunningServer } from '../start.js'
import { startTestServer } from './harness.js'

const adminToken = 'admin-token-for-edges'
let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const scrape = async (): Promise<string> => {
  const response = await fetch(`http://127.0.0.1:${server!.port}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })
  return response.text()
}

describe('fates_closes_total', () => {
  it('does not take a label value per close code a client chooses', async () => {
    server = await startTestServer({ adminToken })
    const codes = Array.from({ length: 30 }, (_, i) => 3000 + i * 61)
    await Promise.all(
      codes.map(
        (code) =>
          new Promise<void>((resolve, reject) => {
            const ws = new WebSocket(server!.url)
            ws.once('message', () => ws.close(code))
            ws.once('close', () => resolve())
            ws.once('error', reject)
          }),
      ),
    )
    // The server counts each close a moment after the client sees it.
    for (let i = 0; i < 50 && server.server.connections > 0; i++) await new Promise((r) => setTimeout(r, 20))
    const series = (await scrape()).split('\n').filter((line) => line.startsWith('fates_closes_total{'))
    expect(series).toEqual(['fates_closes_total{code="other"} 30'])
  })
})

describe('405 on /metrics and /healthz', () => {
  it.each(['/metrics', '/healthz'])('names HEAD in Allow for %s, since HEAD is served', async (path) => {
    server = await startTestServer({ adminToken })
    const reply = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'DELETE' })
    expect(reply.status).toBe(405)
    expect(reply.headers.get('allow')).toBe('GET, HEAD')
    const head = await fetch(`http://127.0.0.1:${server.port}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${adminToken}` } })
    expect(head.status).toBe(200)
  })
})

describe('headers over the limit', () => {
  it('are answered 431, as Node answers them, not 400', async () => {
    server = await startTestServer({ adminToken })
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server!.port, '127.0.0.1')
      let text = ''
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
      socket.on('error', reject)
      socket.on('close', () => resolve(text))
      socket.end(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 431 /)
  })
})
