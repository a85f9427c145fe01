// The Redis backend as the original used it: shared by several instances, readable and
// writable by the original's producer, its ratelimit keys, and what happens when Redis goes
// away.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { RedisKeys, RedisScriptLimits, RedisStore } from '../stores/redis.js'
import { MemoryTokens } from '../stores/store.js'
import {
  identified,
  normalizeTs,
  quietFor as quiet,
  RecordedBot,
  redisBackend,
  segments,
  startTestServer,
  TestClient,
} from './harness.js'

const backend = redisBackend(false)
const botChannel = `bot-${RecordedBot.id}`
let admin: Redis
const servers: RunningServer[] = []
const clients: TestClient[] = []

beforeAll(async () => {
  await backend.setup()
  admin = new Redis(backend.redis().url)
  admin.on('error', () => {})
})
afterAll(async () => {
  admin.disconnect()
  await backend.teardown()
})
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** Starts an instance on the shared Redis; `fresh` empties Redis first. */
async function instance(fresh = false, options = {}): Promise<RunningServer> {
  const base = fresh ? await backend.prepare() : { redis: backend.redis().url, bots: [RecordedBot] }
  const server = await startTestServer({ ...base, ...options }, { ...backend, prepare: async () => ({}) })
  servers.push(server)
  return server
}

async function connect(server: RunningServer, payload: Record<string, unknown> = {}) {
  const result = await identified(server, payload)
  clients.push(result.client)
  return result
}

/** Identifies on a new connection: the `ready` frame, or undefined when the server closed it. */
async function tryIdentify(server: RunningServer, payload: Record<string, unknown> = {}): Promise<TestClient | undefined> {
  const client = await TestClient.open(server.url)
  clients.push(client)
  await client.next()
  client.send(JSON.stringify({ id: RecordedBot.id, token: RecordedBot.token, bot: true, ...payload }))
  const reply = await Promise.race([client.next().catch(() => ''), client.closed.then(() => '')])
  return reply.includes('"code":"ready"') ? client : undefined
}

/** Retries identifying until the server (reconnecting to its store) accepts. */
async function identifyWhenBack(server: RunningServer, payload: Record<string, unknown> = {}): Promise<TestClient> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const client = await tryIdentify(server, payload)
    if (client !== undefined) return client
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the server did not recover within 10 s')
}

const event = (n: number) => ({ m: { e: 0, eid: `eid-${n}`, ts: n, t: -1 }, ctx: { user: '1', votes: n, test: false } })
const eventsOf = (frames: readonly string[]) =>
  frames.flatMap((frame) =>
    segments(frame).flatMap((s) => {
      const payload = JSON.parse(s) as { code: string; dat?: { m: { eid: string; pos?: string } }; channels?: Record<string, string> }
      return payload.code === 'event' ? [payload.dat!.m] : []
    }),
  )
const eidsIn = (frame: string): string[] =>
  segments(frame).map((s) => (JSON.parse(s) as { dat: { m: { eid: string } } }).dat.m.eid)

describe('several instances sharing one Redis', () => {
  it('delivers an event published on one instance to clients of the other', async () => {
    const a = await instance(true)
    const b = await instance()
    const { client: onA } = await connect(a)
    const { client: onB } = await connect(b)
    await a.publish(botChannel, event(1))
    const reply = await fetch(`http://127.0.0.1:${b.port}/publish`, {
      method: 'POST',
      headers: { authorization: `Bearer ${b.adminToken}` },
      body: JSON.stringify({ channel: botChannel, event: event(2) }),
    })
    expect(reply.status).toBe(200)
    for (const client of [onA, onB]) {
      const seen: string[] = []
      while (seen.length < 2) seen.push(...eidsIn(await client.next()))
      expect(seen).toEqual(['eid-1', 'eid-2'])
    }
  })

  it('shares the ratelimit counter: identifies on either instance count together', async () => {
    const a = await instance(true)
    const b = await instance()
    expect(normalizeTs((await connect(a)).ready)).toContain('"requests_remaining":18')
    expect(normalizeTs((await connect(b)).ready)).toContain('"requests_remaining":16')
  })

  it('keeps stored events across a restart of every instance and replays them with send_all', async () => {
    const a = await instance(true)
    const b = await instance()
    for (const n of [1, 2, 3]) await (n % 2 === 0 ? b : a).publish(botChannel, event(n))
    await a.publish('global', { m: { e: 19, eid: 'g-1', ts: 4 }, ctx: { user: null } })
    await Promise.all(servers.splice(0).map((s) => s.close()))
    const c = await instance(false, { donePriorDelayMs: 10 })
    const { client } = await connect(c, { send_all: true })
    expect(eidsIn(await client.next()).sort()).toEqual(['eid-1', 'eid-2', 'eid-3', 'g-1'])
    expect(normalizeTs(await client.next())).toContain('"code":"done_prior"')
  })

  it('loses nothing for a client cut off from one instance and reconnected to the other', async () => {
    const a = await instance(true, { donePriorDelayMs: 10 })
    const b = await instance(false, { donePriorDelayMs: 10 })
    const { client: first } = await connect(a, { send_all: true })
    expect(normalizeTs(await first.next())).toContain('"code":"done_prior"')
    const seen = new Set<string>()
    await b.publish(botChannel, event(1))
    for (const eid of eidsIn(await first.next())) seen.add(eid)
    first.ws.terminate()
    // Published while the client is away, on both instances.
    await a.publish(botChannel, event(2))
    await b.publish(botChannel, event(3))
    const { client: second } = await connect(b, { send_all: true })
    for (const eid of eidsIn(await second.next())) seen.add(eid)
    expect([...seen].sort()).toEqual(['eid-1', 'eid-2', 'eid-3'])
  })
})

describe('the original producer and keys', () => {
  it('picks up events written the way the original producer wrote them', async () => {
    const server = await instance(true, { donePriorDelayMs: 10 })
    const { client } = await connect(server)
    const stored = '{"p-1":{"ctx":{"user":"9","votes":7},"m":{"e":0,"eid":"p-1","t":-1,"ts":1.5}}}'
    await admin.hset(botChannel, 'ws', stored)
    await admin.publish(botChannel, stored)
    expect(await client.next()).toBe(
      `{"chan":"${botChannel}","code":"event","control":false,"dat":{"ctx":{"user":"9","votes":7},"m":{"e":0,"eid":"p-1","t":-1,"ts":1.5}},"detail":null}\x1f`,
    )
    // The original's reader took stored global events from a plain string key.
    await admin.set('global', '{"g-s":{"ctx":{},"m":{"e":19,"eid":"g-s"}}}')
    const { client: replaying } = await connect(server, { send_all: true, send_none: true })
    expect(eidsIn(await replaying.next())).toEqual(['p-1', 'g-s'])
  })

  it('skips a producer message or stored value that is not a JSON object, and keeps serving', async () => {
    const server = await instance(true, { donePriorDelayMs: 10 })
    const { client } = await connect(server)
    await admin.publish(botChannel, 'not json')
    await admin.publish(botChannel, '[1,2]')
    await admin.hset(botChannel, 'ws', '{broken')
    await server.publish('global', { m: { e: 19, eid: 'after' }, ctx: {} })
    expect(eidsIn(await client.next())).toEqual(['after'])
    const { client: replaying } = await connect(server, { send_all: true, send_none: true })
    // The channel's broken value is not replayed; global's is.
    expect(eidsIn(await replaying.next())).toEqual(['after'])
  })

  it('with writeOriginalHistory, also writes stored events where the original read them, keeping the bytes of each event', async () => {
    const server = await instance(true, { writeOriginalHistory: true, positions: false })
    await server.publish(botChannel, { m: { e: 0, eid: 'a', ts: 1 }, ctx: { user: 811073947382579200123, votes: 1 } })
    await server.publish(botChannel, { m: { e: 16, eid: 'b', ts: 2 }, ctx: { user: '<x>' } })
    expect(await admin.hget(botChannel, 'ws')).toBe(
      '{"a":{"ctx":{"user":811073947382579200000,"votes":1},"m":{"e":0,"eid":"a","ts":1}},"b":{"ctx":{"user":"\\u003cx\\u003e"},"m":{"e":16,"eid":"b","ts":2}}}',
    )
    await server.publish('global', { m: { e: 19, eid: 'g' }, ctx: {} })
    expect(await admin.type('global')).toBe('hash')
  })

  it('counts in wsrl-<id>-bot with a window fixed at the first identify', async () => {
    const server = await instance(true, { rateWindowMs: 60_000 })
    await connect(server)
    expect(await admin.get(`wsrl-${RecordedBot.id}-bot`)).toBe('2')
    const ttl = await admin.pttl(`wsrl-${RecordedBot.id}-bot`)
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await connect(server)
    expect(await admin.get(`wsrl-${RecordedBot.id}-bot`)).toBe('4')
    expect(await admin.pttl(`wsrl-${RecordedBot.id}-bot`)).toBeLessThan(ttl)
  })
})

describe('bounded history, idempotency and batches', () => {
  it('keeps the last `history` events per channel in a hash and a sorted set, not the original blob', async () => {
    const server = await instance(true, { history: 3, donePriorDelayMs: 10 })
    for (let n = 1; n <= 5; n++) await server.publish(botChannel, event(n))
    expect(await admin.hlen(`fates-rx:history:${botChannel}`)).toBe(3)
    expect(await admin.zrange(`fates-rx:order:${botChannel}`, 0, -1)).toEqual(['eid-3', 'eid-4', 'eid-5'])
    expect(await admin.exists(botChannel)).toBe(0)
    const { client } = await connect(server, { send_all: true, send_none: true })
    expect(eidsIn(await client.next())).toEqual(['eid-3', 'eid-4', 'eid-5'])
  })

  it('replays its history and the original producer’s stored events together, once per eid, in m.ts order', async () => {
    const server = await instance(true, { donePriorDelayMs: 10 })
    for (const n of [3, 1, 2]) await server.publish(botChannel, event(n))
    // The original producer's blob: one event of its own, and a copy of eid-2.
    await admin.hset(botChannel, 'ws', JSON.stringify({ 'p-1': { m: { e: 0, eid: 'p-1', ts: 1.5 }, ctx: { user: '9', votes: 7 } }, 'eid-2': event(2) }))
    const { client } = await connect(server, { send_all: true, send_none: true })
    expect(eidsIn(await client.next())).toEqual(['eid-1', 'p-1', 'eid-2', 'eid-3'])
  })

  it('stores and delivers an eid published twice, on two instances, once; the answer says it was a repeat', async () => {
    const a = await instance(true)
    const b = await instance()
    const { client } = await connect(a)
    const post = (server: RunningServer, body: unknown) =>
      fetch(`http://127.0.0.1:${server.port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }))
    expect(await post(a, { channel: botChannel, event: event(1) })).toEqual({ status: 200, body: { eid: 'eid-1', repeat: false } })
    expect(await post(b, { channel: botChannel, event: event(1) })).toEqual({ status: 200, body: { eid: 'eid-1', repeat: true } })
    expect(
      await post(b, [
        { channel: botChannel, event: event(1) },
        { channel: botChannel, event: event(2) },
        { channel: botChannel, event: event(2) },
      ]),
    ).toEqual({ status: 200, body: { eids: ['eid-1', 'eid-2', 'eid-2'], repeat: [true, false, true] } })
    await a.publish(botChannel, event(3))
    const seen: string[] = []
    while (!seen.includes('eid-3')) seen.push(...eidsIn(await client.next()))
    expect(seen).toEqual(['eid-1', 'eid-2', 'eid-3'])
    expect(await admin.hlen(`fates-rx:history:${botChannel}`)).toBe(3)
  })

  it('stamps each stored event with its channel position in the script, shared by instances, and a flushed Redis is a new epoch', async () => {
    const one = await instance(true, { donePriorDelayMs: 10 })
    const two = await instance()
    const { client } = await connect(one)
    await one.publish(botChannel, event(1))
    await two.publish(botChannel, event(2))
    await one.publish(botChannel, event(1))
    await two.server.publishMany([{ channel: botChannel, event: event(3) }, { channel: 'global', event: event(4) }])
    const position = await admin.hgetall(RedisKeys.position(botChannel))
    const epoch = position.epoch!
    expect(epoch).toMatch(/^[0-9a-f]{12}$/)
    expect(position.offset).toBe('3')
    expect(await admin.hgetall(RedisKeys.position('global'))).toMatchObject({ offset: '1' })
    const texts: string[] = []
    while (texts.length < 4) texts.push(...segments(await client.next()))
    expect(texts.map((text) => (JSON.parse(text) as { dat: { m: { pos: string } } }).dat.m.pos)).toEqual([
      `${epoch}:1`,
      `${epoch}:2`,
      `${epoch}:3`,
      `${(await admin.hget(RedisKeys.position('global'), 'epoch'))!}:1`,
    ])
    // Where Go's sorted keys put it, the rest of the bytes as they were.
    expect(texts[0]).toContain(`"m":{"e":0,"eid":"eid-1","pos":"${epoch}:1","t":-1,"ts":1}`)
    expect(JSON.parse((await admin.hget(RedisKeys.history(botChannel), 'eid-2'))!).m.pos).toBe(`${epoch}:2`)
    await admin.flushall()
    await one.publish(botChannel, event(5))
    const fresh = await admin.hgetall(RedisKeys.position(botChannel))
    expect(fresh.epoch).not.toBe(epoch)
    expect(fresh.offset).toBe('1')
  })

  it('splits a large batch into script calls of at most RedisScriptLimits events, stored and delivered in order', async () => {
    const server = await instance(true, { history: 10_000 })
    const { client } = await connect(server)
    // Every command into the slow log (the scripts' own commands too), with its arguments: the
    // script calls' numkeys say their sizes.
    await admin.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0')
    await admin.call('CONFIG', 'SET', 'slowlog-max-len', '100000')
    await admin.call('SLOWLOG', 'RESET')
    const total = 3_000
    try {
      const outcomes = await server.server.publishMany(Array.from({ length: total }, (_, n) => ({ channel: botChannel, event: event(n) })))
      expect(outcomes.filter((o) => o.repeat)).toEqual([])
      const log = (await admin.call('SLOWLOG', 'GET', '100000')) as [number, number, number, string[]][]
      const calls = log.map((entry) => entry[3]).filter((args) => /^eval/i.test(args[0] ?? ''))
      // Four keys per event: its history, order, channel and position.
      const sizes = calls.map((args) => Number(args[2]) / 4)
      expect(sizes).toHaveLength(Math.ceil(total / RedisScriptLimits.maxEvents))
      expect(Math.max(...sizes)).toBe(RedisScriptLimits.maxEvents)
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(total)
    } finally {
      await admin.call('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
      await admin.call('CONFIG', 'SET', 'slowlog-max-len', '128')
    }
    expect(await admin.hlen(`fates-rx:history:${botChannel}`)).toBe(total)
    const seen: string[] = []
    while (seen.length < total) seen.push(...eidsIn(await client.next()))
    expect(seen).toEqual(Array.from({ length: total }, (_, n) => `eid-${n}`))
  })

  it('with writeOriginalHistory, stores nothing of a batch whose original blob is not a JSON object', async () => {
    const server = await instance(true, { writeOriginalHistory: true })
    await admin.hset(botChannel, 'ws', '[1]')
    await expect(server.server.publishMany([{ channel: botChannel, event: event(1) }, { channel: botChannel, event: event(2) }])).rejects.toThrow(/not a JSON object/)
    expect(await admin.hlen(`fates-rx:history:${botChannel}`)).toBe(0)
    expect(await admin.hget(botChannel, 'ws')).toBe('[1]')
  })

  it('answers 503 with the eids when Redis cannot say whether it stored them, and a retry with them is a repeat', async () => {
    await backend.prepare()
    const store = await RedisStore.connect({ url: backend.redis().url, tokens: new MemoryTokens([RecordedBot]), commandTimeoutMs: 100 })
    const server = await startTestServer({ store }, { ...backend, prepare: async () => ({}) })
    servers.push(server)
    try {
      const { client } = await connect(server)
      // Redis holds every write for a second: the script's answer and the check both time out.
      await admin.client('PAUSE', 1000, 'WRITE')
      const first = await fetch(`http://127.0.0.1:${server.port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify({ channel: botChannel, event: { m: { e: 0 }, ctx: { user: '1', votes: 1 } } }),
      })
      expect(first.status).toBe(503)
      const { eids } = (await first.json()) as { eids: string[] }
      expect(eids).toHaveLength(1)
      // After the pause the script ran after all; the retry with the eid it named is a repeat.
      const delivered = eidsIn(await client.next(3_000))
      expect(delivered).toEqual(eids)
      const retry = await fetch(`http://127.0.0.1:${server.port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify({ channel: botChannel, event: { m: { e: 0, eid: eids[0] }, ctx: { user: '1', votes: 1 } } }),
      })
      expect(await retry.json()).toEqual({ eid: eids[0], repeat: true })
      await quiet(150)
      expect(client.unread).toEqual([])
    } finally {
      await admin.client('UNPAUSE')
      await store.close()
    }
  })
})

describe('when only the answer of a publish is lost', () => {
  it('finds the events stored and answers 200, delivering them once', async () => {
    await backend.prepare()
    // Writes are held 1.5 s, the script's answer times out after 1 s; the check that follows
    // on the same connection is answered right after the script ran, within its own second.
    const store = await RedisStore.connect({ url: backend.redis().url, tokens: new MemoryTokens([RecordedBot]), commandTimeoutMs: 1_000 })
    const server = await startTestServer({ store }, { ...backend, prepare: async () => ({}) })
    servers.push(server)
    try {
      const { client } = await connect(server)
      await admin.client('PAUSE', 1500, 'WRITE')
      const reply = await fetch(`http://127.0.0.1:${server.port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify({ channel: botChannel, event: event(7) }),
      })
      expect({ status: reply.status, body: await reply.json() }).toEqual({ status: 200, body: { eid: 'eid-7', repeat: false } })
      expect(eidsIn(await client.next())).toEqual(['eid-7'])
      await quiet(150)
      expect(client.unread).toEqual([])
    } finally {
      await admin.client('UNPAUSE')
      await store.close()
    }
  })
})

describe('when Redis goes away', () => {
  it('reconnects after dropped connections, closing identified clients with 4500, losing nothing stored', async () => {
    const server = await instance(true)
    await server.publish(botChannel, event(1))
    const { client } = await connect(server)
    await admin.client('KILL', 'TYPE', 'pubsub')
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
    expect(await client.closed).toEqual({ code: 4500, reason: 'Internal Server Error, try reconnecting?' })
    // Retried in the background: identifying works again and the stored event is still there.
    const again = await identifyWhenBack(server, { send_all: true })
    expect(eidsIn(await again.next())).toEqual(['eid-1'])
  })

  it('answers 4500 instead of hanging while Redis is down, and serves again once it is back', async () => {
    const server = await instance(true)
    const { client } = await connect(server)
    await backend.redis().stop()
    try {
      expect((await client.closed).code).toBe(4500)
      const during = await TestClient.open(server.url)
      clients.push(during)
      await during.next()
      during.send(JSON.stringify({ id: RecordedBot.id, token: RecordedBot.token, bot: true }))
      expect(await during.closed).toEqual({ code: 4500, reason: 'Internal Server Error, try reconnecting?' })
      const reply = await fetch(`http://127.0.0.1:${server.port}/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}` },
        body: JSON.stringify({ channel: botChannel, event: event(1) }),
      })
      expect(reply.status).toBe(500)
    } finally {
      await backend.redis().restart()
    }
    const after = await identifyWhenBack(server)
    await server.publish(botChannel, event(2))
    expect(eidsIn(await after.next())).toEqual(['eid-2'])
  })

  it('refuses to start with a clear error when Redis is unreachable, naming no password', async () => {
    await expect(
      startTestServer({ redis: 'redis://user:hunter2@127.0.0.1:1', bots: [RecordedBot] }, { ...backend, prepare: async () => ({}) }),
    ).rejects.toThrow(/^cannot reach Redis at redis:\/\/127\.0\.0\.1:1(?![^]*hunter2)/)
  })
})

// Two real instances on one real Redis (a review's findings, 2026-12-08).
describe('replay and live delivery on one instance while another publishes', () => {
  it('never delivers an event twice to a send_all client identifying while events are published on the other instance', { timeout: 60_000 }, async () => {
    const a = await instance(true, { donePriorDelayMs: 10, rateLimit: 1_000_000 })
    const b = await instance(false, { donePriorDelayMs: 10, rateLimit: 1_000_000 })
    await admin.set(`wsrl-${RecordedBot.id}-bot`, '-100000000')
    let publishing = true
    let n = 0
    const publisher = (async () => {
      while (publishing) {
        await a.publish(botChannel, event(++n))
      }
    })()
    const duplicated: string[][] = []
    try {
      for (let round = 0; round < 150 && duplicated.length === 0; round++) {
        const client = await TestClient.open(b.url)
        clients.push(client)
        await client.next()
        client.send(JSON.stringify({ id: RecordedBot.id, token: RecordedBot.token, bot: true, send_all: true }))
        await quiet(40)
        const eids = eventsOf(client.frames).map((m) => m.eid)
        const dups = eids.filter((eid, i) => eids.indexOf(eid) !== i)
        if (dups.length > 0) duplicated.push(dups)
        client.ws.terminate()
      }
    } finally {
      publishing = false
      await publisher
    }
    expect(duplicated).toEqual([])
  })
})

describe('exact resume after a Redis restart', () => {
  it('resumes exactly on instance B after events published on A in the new life, while older lives’ events are still stored', { timeout: 60_000 }, async () => {
    const a = await instance(true, { donePriorDelayMs: 10 })
    const b = await instance(false, { donePriorDelayMs: 10 })
    for (let n = 1; n <= 3; n++) await a.publish(botChannel, event(n))
    await admin.save()
    await backend.redis().restart()
    // Both instances reconnect by themselves; publish on A once its store answers again.
    for (;;) {
      try {
        await a.publish(botChannel, event(4))
        break
      } catch {
        await quiet(100)
      }
    }
    await a.publish(botChannel, event(5))
    await a.publish(botChannel, event(6))
    const stored = await admin.hgetall(`fates-rx:history:${botChannel}`)
    const pos4 = (JSON.parse(stored['eid-4']!) as { m: { pos: string } }).m.pos
    // A client that got eid-4 live (at pos4) reconnects to B and resumes after it.
    const client = await identifyWhenBack(b, { send_all: true, send_none: true, after: { [botChannel]: pos4 } })
    const resume = JSON.parse(segments(await client.next())[0]!) as { code: string; channels: Record<string, string> }
    expect(resume.code).toBe('resume')
    const replay = eventsOf([await client.next()]).map((m) => m.eid)
    expect({ outcome: resume.channels[botChannel], replay }).toEqual({ outcome: 'exact', replay: ['eid-5', 'eid-6'] })
  })
})
