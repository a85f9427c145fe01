// Eids are producer-chosen strings that become keys: in a store's history, in the replay, in
// pub/sub messages. Names that mean something to a JavaScript object (`__proto__`,
// `constructor`, …) must be stored, replayed and delivered like any other, by every store.
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { MemoryStore } from '../stores/memory.js'
import { RedisStore } from '../stores/redis.js'
import { MemoryTokens, type EventsById, type Store } from '../stores/store.js'
import { backends, identified, RecordedBot, segments, startTestServer, type TestClient } from './harness.js'
import { startRedis, type RedisService } from './services.js'

/** Keys that an ordinary object treats specially, or that look like its own properties. */
const ObjectKeys = Object.freeze([
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupSetter__',
  'length',
  '0',
  '-1',
  'NaN',
  'null',
  'undefined',
])

/** Eids a producer could send: the object keys above, and any text (quotes, backslashes, Lua pattern characters, astral). */
const hostileEid = fc.oneof(
  fc.constantFrom(...ObjectKeys),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  fc.constantFrom('%s', '%%', '"', '\\', '{}', ':', '\u2028', '😀', ' '),
)

const eidSets = fc.uniqueArray(hostileEid, { minLength: 1, maxLength: 12 })

let redis: RedisService
let run = 0
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})

const stores: readonly (readonly [string, () => Promise<Store>])[] = [
  ['memory', async () => new MemoryStore()],
  ['redis', async () => RedisStore.connect({ url: redis.url, tokens: new MemoryTokens() })],
]

/** The eids of `events` with their events' `n`. */
const contents = (events: EventsById): [string, unknown][] =>
  Object.entries(events)
    .map(([eid, event]) => [eid, (event as { ctx: { n: unknown } }).ctx.n] as [string, unknown])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

describe.each(stores)('the %s store with hostile eids', (_name, open) => {
  let store: Store
  beforeAll(async () => {
    store = await open()
  })
  afterAll(async () => {
    await store.close()
  })

  it('stores, replays and delivers every eid, and recognizes each repeat', async () => {
    await fc.assert(
      fc.asyncProperty(eidSets, fc.boolean(), async (eids, batched) => {
        // A channel per run: nothing carries over between runs.
        const channel = `bot-${++run}`
        const live: [string, unknown][] = []
        const unsubscribe = await store.subscribe(channel, (_from, events) => live.push(...contents(events)))
        const events = eids.map((eid, n) => ({ channel, eid, event: { m: { e: 0, eid, ts: n }, ctx: { n } } }))
        const stored = batched
          ? await store.publishMany!(events)
          : await Promise.all(events.map(({ eid, event }) => store.publish(channel, eid, event)))
        expect(stored).toEqual(eids.map(() => true))
        const expected = contents(Object.fromEntries(events.map(({ eid, event }) => [eid, event])))
        expect(contents(await store.storedEvents(channel))).toEqual(expected)
        // Pub/sub is asynchronous for Redis: wait until the last event arrived.
        for (let i = 0; i < 200 && live.length < eids.length; i++) await new Promise((resolve) => setTimeout(resolve, 5))
        expect(live.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(expected)
        expect(await store.publishMany!(events)).toEqual(eids.map(() => false))
        await unsubscribe()
      }),
      { numRuns: 40 },
    )
  })
})

describe.each(backends())('a send_all replay on $name with hostile eids', (backend) => {
  let server: RunningServer | undefined
  const clients: TestClient[] = []
  beforeAll(() => backend.setup())
  afterAll(() => backend.teardown())
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate()
    await server?.close()
    server = undefined
  })

  it('replays __proto__, constructor and the rest like any eid', async () => {
    server = await startTestServer({}, backend)
    for (const [n, eid] of ObjectKeys.entries()) {
      await server.publish(`bot-${RecordedBot.id}`, { m: { e: 0, eid, ts: n + 1 }, ctx: { user: '1', votes: n } })
    }
    const { client } = await identified(server, { send_all: true })
    clients.push(client)
    const replayed = segments(await client.next()).map((segment) => (JSON.parse(segment) as { dat: { m: { eid: string } } }).dat.m.eid)
    expect(replayed).toEqual(ObjectKeys)
  })
})
