// Two real instances on one real Redis (a review's findings, 2026-12-08).
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { RecordedBot, redisBackend, segments, startTestServer, TestClient } from './harness.js'

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

async function instance(fresh = false, options = {}): Promise<RunningServer> {
  const base = fresh ? await backend.prepare() : { redis: backend.redis().url, bots: [RecordedBot] }
  const server = await startTestServer({ ...base, ...options }, { ...backend, prepare: async () => ({}) })
  servers.push(server)
  return server
}

const event = (n: number) => ({ m: { e: 0, eid: `eid-${n}`, ts: n, t: -1 }, ctx: { user: '1', votes: n, test: false } })
const eventsOf = (frames: readonly string[]) =>
  frames.flatMap((frame) =>
    segments(frame).flatMap((s) => {
      const payload = JSON.parse(s) as { code: string; dat?: { m: { eid: string; pos?: string } }; channels?: Record<string, string> }
      return payload.code === 'event' ? [payload.dat!.m] : []
    }),
  )
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

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
        await sleep(40)
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
    for (let n = 4; ; ) {
      try {
        await a.publish(botChannel, event(n))
        break
      } catch {
        await sleep(100)
      }
    }
    await a.publish(botChannel, event(5))
    await a.publish(botChannel, event(6))
    const stored = await admin.hgetall(`fates-rx:history:${botChannel}`)
    const pos4 = (JSON.parse(stored['eid-4']!) as { m: { pos: string } }).m.pos
    // A client that got eid-4 live (at pos4) reconnects to B and resumes after it.
    let client: TestClient | undefined
    for (let attempt = 0; attempt < 50 && client === undefined; attempt++) {
      const c = await TestClient.open(b.url)
      clients.push(c)
      await c.next()
      c.send(JSON.stringify({ id: RecordedBot.id, token: RecordedBot.token, bot: true, send_all: true, send_none: true, after: { [botChannel]: pos4 } }))
      const reply = await Promise.race([c.next().catch(() => ''), c.closed.then(() => '')])
      if (reply.includes('"code":"ready"')) client = c
      else await sleep(100)
    }
    const resume = JSON.parse(segments(await client!.next())[0]!) as { code: string; channels: Record<string, string> }
    expect(resume.code).toBe('resume')
    const replay = eventsOf([await client!.next()]).map((m) => m.eid)
    expect({ outcome: resume.channels[botChannel], replay }).toEqual({ outcome: 'exact', replay: ['eid-5', 'eid-6'] })
  })
})
