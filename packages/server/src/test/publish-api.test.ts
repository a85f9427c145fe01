// POST /publish and the in-process publish: authentication, validation and what gets stored.
import { connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { Timestamps } from '@fates-rx/core/protocol'
import { PublishError } from '../publish.js'
import { identified, RecordedBot, startTestServer } from './harness.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const adminToken = 'admin-token-for-tests'
const publishUrl = (s: RunningServer): string => `http://127.0.0.1:${s.port}/publish`

async function post(body: string, headers: Record<string, string> = { authorization: `Bearer ${adminToken}` }) {
  const response = await fetch(publishUrl(server!), { method: 'POST', body, headers })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

const validEvent = { m: { e: 0, t: -1 }, ctx: { user: '1', votes: 3, test: false } }

describe('POST /publish', () => {
  it.each([
    ['no Authorization header', {}],
    ['a wrong token', { authorization: 'Bearer nope' }],
    ['the token without Bearer', { authorization: adminToken }],
    ['the token after another scheme', { authorization: `Basic ${adminToken}` }],
  ])('answers 401 to %s, never echoing a token', async (_name, headers) => {
    server = await startTestServer({ adminToken })
    const reply = await post(JSON.stringify({ channel: 'global', event: validEvent }), headers)
    expect(reply.status).toBe(401)
    expect(JSON.stringify(reply.body)).not.toContain(adminToken)
  })

  it.each(['bearer', 'BEARER'])('takes the scheme in any case (%s), as HTTP does', async (scheme) => {
    server = await startTestServer({ adminToken })
    const reply = await post(JSON.stringify({ channel: 'global', event: validEvent }), { authorization: `${scheme} ${adminToken}` })
    expect(reply.status).toBe(200)
  })

  it.each([
    ['no token', ''],
    ['a wrong token', 'authorization: Bearer nope\r\n'],
  ])('answers 401 to an upload with %s without reading its body, and closes the connection', async (_name, auth) => {
    server = await startTestServer({ adminToken })
    const declared = 500 * 1024 * 1024
    const socket = tcpConnect(server.port, '127.0.0.1')
    socket.on('error', () => {})
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    let open = true
    void closed.then(() => (open = false))
    socket.write(`POST /publish HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`)
    // Upload as fast as the server takes it, up to 64 MB: a server that reads the body takes
    // it all; one that refuses it closes the connection long before.
    const chunk = Buffer.alloc(256 * 1024, 0x20)
    let written = 0
    while (open && written < 64 * 1024 * 1024) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed])
      written += chunk.length
    }
    await closed
    expect(answer).toMatch(/^HTTP\/1\.1 401 /)
    expect(answer.toLowerCase()).toContain('connection: close')
    expect(answer).not.toContain(adminToken)
    expect(written).toBeLessThan(16 * 1024 * 1024)
  })

  it('closes a refused connection whose client neither sends its body nor closes', async () => {
    server = await startTestServer({ adminToken })
    const socket = tcpConnect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true })
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')))
    const reset = new Promise<string | undefined>((resolve) => socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code)))
    socket.write('POST /publish HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000\r\n\r\n')
    await new Promise((resolve) => socket.once('end', resolve))
    expect(answer).toMatch(/^HTTP\/1\.1 401 /)
    // The server's FIN alone could be a half-close that keeps its descriptor; only a socket
    // the server destroyed answers further bytes with a reset.
    const poke = setInterval(() => socket.write('x'), 50)
    expect(await reset).toMatch(/^(ECONNRESET|EPIPE)$/)
    clearInterval(poke)
    socket.destroy()
  })

  it('answers 413 to a declared body over 1 MB without reading it', async () => {
    server = await startTestServer({ adminToken })
    const reply = await fetch(publishUrl(server), {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: 'x'.repeat(1024 * 1024 + 1),
    })
    expect(reply.status).toBe(413)
    expect(await reply.json()).toEqual({ error: 'body larger than 1048576 bytes' })
  })

  it('answers a body that is not JSON without quoting it back', async () => {
    server = await startTestServer({ adminToken })
    for (const body of ['secretstuff-not-json', '{"a": secretstuff}', '{nope']) {
      const reply = await fetch(publishUrl(server), { method: 'POST', headers: { authorization: `Bearer ${adminToken}` }, body })
      expect(reply.status).toBe(400)
      const { error } = (await reply.json()) as { error: string }
      expect(error).toMatch(/^body is not JSON: /)
      expect(error).not.toMatch(/secretstuff|nope/)
    }
  })

  it.each([
    ['not JSON', '{nope', /^body is not JSON: /],
    ['a JSON number', '5', /^body must be a JSON object/],
    ['an empty batch', '[]', /^a batch must hold at least one/],
    ['an unknown channel', JSON.stringify({ channel: 'bots-1', event: validEvent }), /^channel must be/],
    ['a channel whose id no identify can carry (beyond int64)', JSON.stringify({ channel: 'bot-9223372036854775808', event: validEvent }), /^channel must be/],
    ['a channel whose id has a leading zero', JSON.stringify({ channel: 'server-0811073947382579200', event: validEvent }), /^channel must be/],
    ['a missing channel', JSON.stringify({ event: validEvent }), /^channel must be/],
    ['an event without m', JSON.stringify({ channel: 'global', event: { ctx: {} } }), /^event: m: expected/],
    ['a non-integer m.e', JSON.stringify({ channel: 'global', event: { m: { e: 1.5 }, ctx: {} } }), /^event: m\.e: expected Integer/],
    ['an empty eid', JSON.stringify({ channel: 'global', event: { m: { e: 1, eid: '' }, ctx: {} } }), /^event: m\.eid must not be empty/],
    ['an eid of 129 characters', JSON.stringify({ channel: 'global', event: { m: { e: 1, eid: 'x'.repeat(129) }, ctx: {} } }), /^event: m\.eid must be at most 128 characters$/],
    ['an m.e beyond the safe integers', '{"channel":"global","event":{"m":{"e":1e300},"ctx":{}}}', /^event: m\.e: expected Integer/],
    ['a channel id beyond int64 (no identify can reach it)', JSON.stringify({ channel: 'bot-99999999999999999999', event: validEvent }), /^channel must be/],
    ['a vote whose votes is a string', JSON.stringify({ channel: `bot-${RecordedBot.id}`, event: { m: { e: 0 }, ctx: { user: '1', votes: 'lots' } } }), /^event: ctx: votes: expected Integer \(for m\.e 0\)$/],
    ['a transfer without new_owner', JSON.stringify({ channel: `bot-${RecordedBot.id}`, event: { m: { e: 12 }, ctx: { user: '1' } } }), /^event: ctx: new_owner: expected/],
    ['an m.ts of 1e300 (it would hide every later event from resuming clients)', '{"channel":"global","event":{"m":{"e":19,"ts":1e300},"ctx":{}}}', /^event: m\.ts must be at most 60 s ahead of the server's clock$/],
    ['an m.ts of -1e308', '{"channel":"global","event":{"m":{"e":19,"ts":-1e308},"ctx":{}}}', /^event: m\.ts must not be before 0 \(Unix seconds\)$/],
    ['an m.ts beyond what a double holds (JSON.parse makes it Infinity)', '{"channel":"global","event":{"m":{"e":19,"ts":1e400},"ctx":{}}}', /^event: m\.ts must be a finite number of Unix seconds$/],
    ['an m.ts an hour ahead of the server', () => JSON.stringify({ channel: 'global', event: { m: { e: 19, ts: Date.now() / 1000 + 3600 }, ctx: {} } }), /^event: m\.ts must be at most 60 s ahead/],
    ['10,000 nested arrays in ctx', `{"channel":"bot-${RecordedBot.id}","event":{"m":{"e":16},"ctx":{"user":"1","deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}}}`, /^event: nested deeper than 32 levels$/],
  ] as const satisfies readonly (readonly [string, string | (() => string), RegExp])[])('answers 400 with a clear message to %s, and stores nothing', async (_name, body, message) => {
    server = await startTestServer({ adminToken, donePriorDelayMs: 0 })
    const reply = await post(typeof body === 'function' ? body() : body)
    expect(reply.status).toBe(400)
    expect(reply.body.error).toMatch(message)
    // Nothing stored: the replay is empty, straight to done_prior.
    const { client } = await identified(server, { send_all: true, send_none: true })
    expect(await client.next()).toContain('"code":"done_prior"')
    client.ws.terminate()
  })

  it('accepts any context for an event number it does not know', async () => {
    server = await startTestServer({ adminToken })
    const reply = await post(JSON.stringify({ channel: 'global', event: { m: { e: 999, eid: 'u' }, ctx: { votes: 'lots', x: [1, { y: 2 }] } } }))
    expect(reply).toEqual({ status: 200, body: { eid: 'u', repeat: false } })
  })

  it('answers 404 elsewhere and 405 to other methods', async () => {
    server = await startTestServer({ adminToken })
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404)
    const get = await fetch(publishUrl(server))
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })

  it('stores and delivers the event, assigning eid and ts, and answers {"eid"}', async () => {
    server = await startTestServer({ adminToken })
    const { client } = await identified(server)
    const before = Date.now() / 1000
    const reply = await post(JSON.stringify({ channel: `bot-${RecordedBot.id}`, event: validEvent }))
    expect(reply.status).toBe(200)
    const eid = reply.body.eid as string
    expect(eid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const frame = await client.next()
    const { dat } = JSON.parse(frame.slice(0, -1)) as { dat: { m: { eid: string; ts: number } } }
    expect(dat.m.eid).toBe(eid)
    expect(dat.m.ts).toBeGreaterThanOrEqual(before)
    expect(dat.m.ts).toBeLessThanOrEqual(Date.now() / 1000)
    // Stored under its eid: a send_all replay sends it again with the same eid.
    const { client: replaying } = await identified(server, { send_all: true, send_none: true })
    expect(await replaying.next()).toBe(frame)
    client.ws.terminate()
    replaying.ws.terminate()
  })

  it('accepts an m.ts up to the stated skew ahead of its clock, and 0', async () => {
    server = await startTestServer({ adminToken })
    for (const ts of [0, Date.now() / 1000 + Timestamps.maxAheadSeconds - 1]) {
      const reply = await post(JSON.stringify({ channel: 'global', event: { m: { e: 19, ts }, ctx: {} } }))
      expect(reply.status).toBe(200)
    }
  })

  it('keeps a given eid and ts', async () => {
    server = await startTestServer({ adminToken })
    const reply = await post(JSON.stringify({ channel: 'global', event: { m: { e: 19, eid: 'my-eid', ts: 5 }, ctx: {} } }))
    expect(reply.body).toEqual({ eid: 'my-eid', repeat: false })
  })
})

describe('POST /publish with a batch', () => {
  const vote = (n: number, eid?: string) => ({ m: { e: 0, ...(eid === undefined ? {} : { eid }) }, ctx: { user: '1', votes: n } })

  it('stores and delivers every event in order and answers their eids in order', async () => {
    server = await startTestServer({ adminToken })
    const { client } = await identified(server)
    const batch = [0, 1, 2, 3].map((n) => ({ channel: n === 2 ? 'global' : `bot-${RecordedBot.id}`, event: vote(n, n === 1 ? 'given' : undefined) }))
    const reply = await post(JSON.stringify(batch))
    expect(reply.status).toBe(200)
    const eids = reply.body.eids as string[]
    expect(eids).toHaveLength(4)
    expect(eids[1]).toBe('given')
    expect(reply.body.repeat).toEqual([false, false, false, false])
    const seen: { eid: string; votes: number }[] = []
    while (seen.length < 4) {
      for (const segment of (await client.next()).split('\x1f').filter((s) => s !== '')) {
        const { dat } = JSON.parse(segment) as { dat: { m: { eid: string }; ctx: { votes: number } } }
        seen.push({ eid: dat.m.eid, votes: dat.ctx.votes })
      }
    }
    expect(seen).toEqual(eids.map((eid, votes) => ({ eid, votes })))
    client.ws.terminate()
  })

  it('refuses the whole batch when one event is bad, naming its index, and stores nothing', async () => {
    server = await startTestServer({ adminToken, donePriorDelayMs: 0 })
    const batch = [
      { channel: `bot-${RecordedBot.id}`, event: vote(1) },
      { channel: `bot-${RecordedBot.id}`, event: { m: { e: 0 }, ctx: { user: '1', votes: 'lots' } } },
    ]
    expect(await post(JSON.stringify(batch))).toEqual({ status: 400, body: { error: '[1] event: ctx: votes: expected Integer (for m.e 0)' } })
    expect(await post(JSON.stringify([batch[0], 7]))).toEqual({ status: 400, body: { error: expect.stringMatching(/^\[1\] body must be a JSON object/) as unknown } })
    const { client } = await identified(server, { send_all: true, send_none: true })
    expect(await client.next()).toContain('"code":"done_prior"')
    client.ws.terminate()
  })

  it('recognizes a repeated eid, in a batch or across requests: stored and delivered once', async () => {
    server = await startTestServer({ adminToken })
    const { client } = await identified(server)
    const channel = `bot-${RecordedBot.id}`
    expect(await post(JSON.stringify({ channel, event: vote(1, 'same') }))).toEqual({ status: 200, body: { eid: 'same', repeat: false } })
    expect(await post(JSON.stringify({ channel, event: vote(2, 'same') }))).toEqual({ status: 200, body: { eid: 'same', repeat: true } })
    expect(await post(JSON.stringify([{ channel, event: vote(3, 'other') }, { channel, event: vote(4, 'other') }]))).toEqual({
      status: 200,
      body: { eids: ['other', 'other'], repeat: [false, true] },
    })
    const frames = [await client.next(), await client.next()]
    expect(frames.join('')).toContain('"votes":1')
    expect(frames.join('')).toContain('"votes":3')
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(client.unread).toEqual([])
    client.ws.terminate()
  })
})

describe('history', () => {
  it('keeps the last `history` events of a channel in memory and replays them in m.ts order', async () => {
    server = await startTestServer({ history: 2, donePriorDelayMs: 0 })
    const channel = `bot-${RecordedBot.id}`
    for (const [eid, ts] of [['a', 1], ['b', 3], ['c', 2]] as const) await server.publish(channel, { m: { e: 16, eid, ts }, ctx: { user: '1' } })
    const { client } = await identified(server, { send_all: true, send_none: true })
    const replay = (await client.next()).split('\x1f').filter((s) => s !== '')
    expect(replay.map((s) => (JSON.parse(s) as { dat: { m: { eid: string } } }).dat.m.eid)).toEqual(['c', 'b'])
    client.ws.terminate()
  })
})

describe('server.publish', () => {
  it('rejects a bad channel or event with PublishError', async () => {
    server = await startTestServer()
    await expect(server.publish('nope', validEvent)).rejects.toBeInstanceOf(PublishError)
    await expect(server.publish('global', { m: {} })).rejects.toThrow(/^event: /)
  })

  it('resolves to the eid', async () => {
    server = await startTestServer()
    await expect(server.publish('global', { m: { e: 19, eid: 'x' }, ctx: {} })).resolves.toBe('x')
  })
})
