import { describe, expect, it } from 'vitest'
import { startServer } from '../start.js'

// The start line names the upstream's host only, but a password with an unescaped / splits the
// URL parser's authority early: "relayuser:4242" is read as host and port.
describe('relay: the start line names no part of the upstream URL password', () => {
  it('with a / in the password', async () => {
    const lines: string[] = []
    const logger = { info: (l: string) => lines.push(l), error: (l: string) => lines.push(l) }
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      bots: [{ id: '1', token: 'viewer-token' }],
      relay: { upstream: 'ws://relayuser:4242/SECRET@127.0.0.1:9/ws', bots: [{ id: '1', token: 'upstream-token' }] },
    })
    await server.close()
    const start = lines.find((l) => l.startsWith('relaying'))
    expect(start).toBe("relaying bot-1 from 127.0.0.1:9, viewers identify with this server's tokens")
    for (const line of lines) expect(line).not.toMatch(/4242|SECRET/)
  })
})
