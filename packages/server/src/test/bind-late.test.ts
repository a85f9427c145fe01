// bindWebSocket for users who bind a connection of their own ws server later (after their own
// asynchronous check): a socket that closed meanwhile must not stay a connection forever.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { makeServer } from '../protocol/make-server.js'
import { protocolRules, resolveOptions } from '../options.js'
import { MemoryStore } from '../stores/memory.js'
import { MemoryTokens } from '../stores/store.js'
import { silentLogger } from '../log.js'
import { bindWebSocket } from '../use/ws.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('bindWebSocket', () => {
  it('lets go of a socket that closed before it was bound, so closeAll resolves', async () => {
    const store = new MemoryStore({ tokens: new MemoryTokens([], []), maxStoredPerChannel: 10, positions: true })
    const server = makeServer({ store, logger: silentLogger, ...protocolRules(resolveOptions({})), now: Date.now })
    const http = createServer()
    const wss = new WebSocketServer({ server: http })
    const bound = new Promise<void>((resolve) => {
      wss.on('connection', (ws, request) => {
        // The user's own check takes a moment; the client leaves meanwhile.
        ws.once('close', () =>
          setTimeout(() => {
            bindWebSocket(server, ws, request)
            resolve()
          }, 20),
        )
      })
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    cleanups.push(async () => {
      wss.close()
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
      await store.close()
    })
    const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}/`)
    await new Promise((resolve) => client.once('open', resolve))
    client.terminate()
    await bound
    const outcome = await Promise.race([
      server.closeAll(1001, 100).then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 1_000)),
    ])
    expect(outcome).toBe('closed')
    expect(server.connections).toBe(0)
  })
})
