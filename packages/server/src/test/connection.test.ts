// Transport rows of PROTOCOL.md: identify timeout, pings and dead peers, the read limit,
// binary frames, floods, store failures and shutdown.
import { connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryStore } from '../stores/memory.js'
import type { Store } from '../stores/store.js'
import type { RunningServer } from '../start.js'
import {
  identified,
  normalizeTs,
  RecordedBot,
  RecordedServer,
  startTestServer,
  TestClient,
} from './harness.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const identify = JSON.stringify({ id: RecordedBot.id, token: RecordedBot.token, bot: true })

describe('identify timeout', () => {
  it('closes a connection that does not identify in time with 4000', async () => {
    server = await startTestServer({ identifyTimeoutMs: 150 })
    const client = await TestClient.open(server.url)
    expect(normalizeTs(await client.next())).toContain('"code":"identity"')
    expect(await client.closed).toEqual({ code: 4000, reason: 'Invalid connection, try again' })
    expect(client.unread).toEqual([])
  })

  it('does not close an identified connection', async () => {
    server = await startTestServer({ identifyTimeoutMs: 100 })
    const { client } = await identified(server)
    await server.publish(`bot-${RecordedBot.id}`, { m: { e: 0 }, ctx: { user: '1', votes: 1 } })
    await new Promise((resolve) => setTimeout(resolve, 200))
    await server.publish(`bot-${RecordedBot.id}`, { m: { e: 0 }, ctx: { user: '1', votes: 2 } })
    expect(await client.next()).toContain('"votes":1')
    expect(await client.next()).toContain('"votes":2')
    client.ws.terminate()
  })
})

describe('pings', () => {
  it('pings on the interval over a real socket (keeping and dropping peers: server.test.ts)', async () => {
    // Generous against a loaded machine: the pong must only come back within 1 s.
    server = await startTestServer({ pingIntervalMs: 50, pongTimeoutMs: 1_000 })
    const client = await TestClient.open(server.url)
    await client.next()
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(client.pings.length).toBeGreaterThanOrEqual(3)
    expect(client.ws.readyState).toBe(client.ws.OPEN)
    client.ws.terminate()
  })

  it('closes a peer that stops answering with 4000, as the original read loop did on its read deadline', async () => {
    server = await startTestServer({ pingIntervalMs: 40, pongTimeoutMs: 150 })
    const client = await TestClient.open(server.url, { autoPong: false })
    const opened = Date.now()
    // client.go readPump: ReadMessage fails at the deadline → closeWs(c, types.InvalidConn).
    expect(await client.closed).toEqual({ code: 4000, reason: 'Invalid connection, try again' })
    expect(Date.now() - opened).toBeGreaterThanOrEqual(140)
  })
})

describe('read limit', () => {
  it('accepts a message of exactly 4096 bytes', async () => {
    server = await startTestServer()
    const client = await TestClient.open(server.url)
    await client.next()
    const padded = identify.slice(0, -1) + ' '.repeat(4096 - identify.length) + '}'
    expect(Buffer.byteLength(padded)).toBe(4096)
    client.send(padded)
    expect(normalizeTs(await client.next())).toContain('"code":"ready"')
    client.ws.terminate()
  })

  it('closes with 1009 on a message of 4097 bytes', async () => {
    server = await startTestServer()
    const { client } = await identified(server)
    client.send('x'.repeat(4097))
    expect((await client.closed).code).toBe(1009)
    expect(client.unread).toEqual([])
  })
})

describe('bad input never crashes the server', () => {
  it('reads a binary identify as its bytes, as Go did', async () => {
    server = await startTestServer()
    const client = await TestClient.open(server.url)
    await client.next()
    client.send(Buffer.from(identify), true)
    expect(normalizeTs(await client.next())).toContain('"code":"ready"')
    client.ws.terminate()
  })

  it.each([
    ['invalid UTF-8 (binary)', Buffer.from([0xff, 0xfe, 0x7b]), true, "invalid character 'ÿ' looking for beginning of value"],
    ['invalid UTF-8 (text)', Buffer.from([0x7b, 0xc3]), false, "invalid character 'Ã' looking for beginning of object key string"],
    ['a NUL byte', Buffer.from([0x00]), true, "invalid character '\\x00' looking for beginning of value"],
    ['an empty message', Buffer.alloc(0), false, 'unexpected end of JSON input'],
  ])('answers %s with Go’s invalid_payload text and 4004', async (_name, bytes, binary, detail) => {
    server = await startTestServer()
    const client = await TestClient.open(server.url)
    await client.next()
    client.send(bytes, binary)
    expect(normalizeTs(await client.next())).toBe(
      `{"code":"invalid_payload","detail":${JSON.stringify(detail)},"ts":0,"requests_remaining":-1,"control":true}`,
    )
    expect(await client.closed).toEqual({ code: 4004, reason: 'Invalid authentication, try again' })
  })

  it('survives a flood of connections, garbage and raw TCP noise, then serves normally', async () => {
    server = await startTestServer()
    const url = new URL(server.url)
    const noise = Array.from({ length: 20 }, () =>
      new Promise<void>((resolve) => {
        const socket = tcpConnect(Number(url.port), url.hostname, () => socket.end('\x16\x03\x01 not http\r\n\r\n'))
        socket.on('error', () => resolve())
        socket.on('close', () => resolve())
        socket.resume()
      }),
    )
    const floods = Array.from({ length: 100 }, async (_, n) => {
      const client = await TestClient.open(server!.url)
      client.send(n % 2 === 0 ? '{"id":' : Buffer.from([n, 0xff, 0x00]), n % 3 === 0)
      return (await client.closed).code
    })
    const codes = await Promise.all(floods)
    await Promise.all(noise)
    expect(new Set(codes)).toEqual(new Set([4004]))
    const { ready } = await identified(server, { id: RecordedServer.id, token: RecordedServer.token, bot: false })
    expect(normalizeTs(ready)).toContain('"code":"ready"')
  })

  it('always delivers the error payload before the close frame', async () => {
    server = await startTestServer()
    const attempts = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const client = await TestClient.open(server!.url)
        await client.next()
        client.send('{"id":"1","token":"wrong","bot":true}')
        const closed = await client.closed
        return { frames: client.unread.map(normalizeTs), closed }
      }),
    )
    for (const { frames, closed } of attempts) {
      expect(frames).toEqual([
        '{"code":"invalid_auth","detail":"no rows in result set","ts":0,"requests_remaining":-1,"control":true}',
      ])
      expect(closed).toEqual({ code: 4004, reason: 'Invalid authentication, try again' })
    }
  })

  it('keeps ready before ratelimited when the messages arrive together with the identify', async () => {
    server = await startTestServer()
    const client = await TestClient.open(server.url)
    client.send(identify)
    for (let n = 1; n <= 19; n++) client.send(`{"msg":${n}}`)
    expect(await client.closed).toEqual({ code: 4012, reason: 'Ratelimited' })
    expect(client.frames.map(normalizeTs).map((f) => f.replace(/"detail":"Send Bot ID[^"]*"/, '"detail":"…"'))).toEqual([
      '{"code":"identity","detail":"…","ts":0,"requests_remaining":-1,"control":true}',
      '{"code":"ready","detail":"Waiting for messages with 2 already made","ts":0,"requests_remaining":18,"control":true}',
      '{"code":"ratelimited","detail":"Past max requests that can be sent (21)","ts":0,"requests_remaining":-1,"control":true}',
    ])
  })

  it('does not echo the token in any payload', async () => {
    server = await startTestServer()
    const secret = 'sup3r-s3cret-token'
    for (const payload of [
      { id: '0', token: secret, bot: true },
      { id: '-5', token: secret, bot: true },
      { id: RecordedBot.id, token: secret, bot: true },
      { id: 'abc', token: secret, bot: true },
    ]) {
      const client = await TestClient.open(server.url)
      await client.next()
      client.send(JSON.stringify(payload))
      await client.closed
      expect(client.frames.join('')).not.toContain(secret)
    }
  })
})

describe('store failures', () => {
  /** A memory store whose methods can be made to fail, like a lost Redis connection. */
  function flakyStore(): { store: Store; fail: (on: boolean) => void } {
    const inner = new MemoryStore({ bots: [RecordedBot] })
    let failing = false
    const guard = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
      failing ? Promise.reject(new Error('connection lost')) : f(...args)
    const store: Store = {
      tokenOf: guard(inner.tokenOf.bind(inner)),
      countRequest: guard(inner.countRequest.bind(inner)),
      publish: guard(inner.publish.bind(inner)),
      storedEvents: guard(inner.storedEvents.bind(inner)),
      subscribe: guard(inner.subscribe.bind(inner)),
      close: () => inner.close(),
    }
    return { store, fail: (on) => (failing = on) }
  }

  it('closes with 4500 instead of hanging when the store fails during identify', async () => {
    const { store, fail } = flakyStore()
    server = await startTestServer({ store, bots: [], servers: [] })
    fail(true)
    const client = await TestClient.open(server.url)
    await client.next()
    client.send(identify)
    expect(await client.closed).toEqual({ code: 4500, reason: 'Internal Server Error, try reconnecting?' })
    fail(false)
    const { ready } = await identified(server)
    expect(normalizeTs(ready)).toContain('"code":"ready"')
  })

  it('closes with 4500 when counting a later message fails', async () => {
    const { store, fail } = flakyStore()
    server = await startTestServer({ store, bots: [], servers: [] })
    const { client } = await identified(server)
    fail(true)
    client.send('{"msg":1}')
    expect((await client.closed).code).toBe(4500)
  })
})

describe('shutdown', () => {
  it('closes every connection with 1001', async () => {
    server = await startTestServer()
    const clients = await Promise.all([identified(server), identified(server)])
    const unidentified = await TestClient.open(server.url)
    await server.close()
    for (const { client } of clients) expect((await client.closed).code).toBe(1001)
    expect((await unidentified.closed).code).toBe(1001)
    expect(server.server.connections).toBe(0)
  })
})
