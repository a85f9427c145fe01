// Live events, replay, send_none, the global channel and the batching writer, compared with
// the recorded sessions b, c and d where they apply.
import type { Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { MemoryStore } from '../stores/memory.js'
import type { Store } from '../stores/store.js'
import {
  backends,
  memoryBackend,
  EventFramePattern,
  fixture,
  identified,
  normalizeTs,
  quietFor,
  RecordedBot,
  RecordedServer,
  segments,
  startTestServer,
  TestClient,
  type RecordedEntry,
} from './harness.js'

const botChannel = `bot-${RecordedBot.id}`

/** The events (`dat`) inside a recorded or received frame. */
const eventsIn = (frame: string): unknown[] =>
  segments(frame).map((segment) => (JSON.parse(segment) as { dat: unknown }).dat)

const recvs = (entries: readonly RecordedEntry[], conn?: string): string[] =>
  entries.filter((e) => e.kind === 'recv' && e.conn === conn).map((e) => e.raw ?? '')

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

async function client(payload: Record<string, unknown> = {}): Promise<{ client: TestClient; ready: string }> {
  const result = await identified(server!, payload)
  clients.push(result.client)
  return result
}

/** Orders recorded single-event frames by their `votes` (their publish order). */
function byVotes(a: string, b: string): number {
  const votes = (frame: string): number => (JSON.parse(segments(frame)[0] ?? "") as { dat: { ctx: { votes: number } } }).dat.ctx.votes
  return votes(a) - votes(b)
}

// The protocol rows run against every backend; the writer's tests below are about the
// socket side only and run on the in-memory store (a store only feeds the writer).
describe.each(backends())('$name backend', (backend) => {
  beforeAll(() => backend.setup())
  afterAll(() => backend.teardown())

  describe('live events (recording b)', () => {
    const recorded = fixture('b')
    const frames = recvs(recorded)

    it('wraps a published event exactly as the original did', async () => {
      server = await startTestServer({ positions: false }, backend)
      const { client: c, ready } = await client({ send_all: false, send_none: false })
      expect(normalizeTs(ready)).toBe(normalizeTs(frames[1] ?? ''))
      const note = recorded.find((e) => e.published !== undefined)!
      const [event] = Object.values(JSON.parse(note.published!) as Record<string, unknown>)
      await server.publish(botChannel, event)
      expect(await c.next()).toBe(frames[2])
    })

    it('sends events published one at a time as single frames `E\\x1f`', async () => {
      server = await startTestServer({ positions: false }, backend)
      const { client: c } = await client()
      // The 20 sequential publishes of the recording, in its order, each awaited.
      for (const frame of frames.slice(3, 23)) {
        const [event] = eventsIn(frame)
        await server.publish(botChannel, event)
        expect(await c.next()).toBe(frame)
      }
    })

    it('keeps publish order for a burst and batches what is queued in one turn', async () => {
      server = await startTestServer({ positions: false }, backend)
      const { client: c } = await client()
      // The producer's order (rising votes); the recording shows them as they arrived, shuffled.
      const ordered = frames.slice(23).sort(byVotes)
      const burst = ordered.map((frame) => eventsIn(frame)[0])
      expect(burst).toHaveLength(20)
      // The original published each from its own goroutine and they arrived shuffled; ours keeps
      // publish order, and events queued in the same turn share a frame.
      await Promise.all(burst.map((event) => server!.publish(botChannel, event)))
      const received: string[] = []
      const frameList: string[] = []
      while (received.length < burst.length) {
        const frame = await c.next()
        expect(frame).toMatch(EventFramePattern)
        frameList.push(frame)
        received.push(...segments(frame))
      }
      expect(received).toEqual(ordered.map((f) => f.slice(0, -1)))
      // In memory, publishing is synchronous: all 20 are queued in one turn and share a frame.
      // Through Redis they arrive as separate messages and batch as they happen to meet.
      if (backend === memoryBackend) expect(frameList).toHaveLength(1)
    })
  })

  describe('send_all replay and done_prior (recording c)', () => {
    const recorded = fixture('c')
    const run = recorded.filter((e) => e.conn === 'run1')
    const frames = recvs(recorded, 'run1')

    it('replays stored events in one batched frame, then done_prior about a second later', async () => {
      // The original's one second, once; the other backends take a shorter delay to keep the
      // suite fast (the delay is the server's, not the store's).
      const delay = backend === memoryBackend ? 1000 : 100
      server = await startTestServer({ positions: false, donePriorDelayMs: delay }, backend)
      const stored = recorded[0]!
      const order = (stored as unknown as { order: string[] }).order
      const byEid = JSON.parse(stored.hget_ws!) as Record<string, unknown>
      for (const eid of order) await server.publish(botChannel, byEid[eid])

      const { client: c, ready } = await client({ send_all: true, send_none: false })
      const readyAt = Date.now()
      expect(normalizeTs(ready)).toBe(normalizeTs(frames[1]!))
      const replay = await c.next()
      expect(replay).toMatch(EventFramePattern)
      // Order is unspecified (the original iterated a map); the documents are identical.
      expect(segments(replay).sort()).toEqual(segments(frames[2]!).sort())
      const done = await c.next()
      expect(Date.now() - readyAt).toBeGreaterThanOrEqual(delay - 100)
      expect(normalizeTs(done)).toBe(normalizeTs(frames[3]!))

      const live = run.length > 0 ? recorded.find((e) => e.kind === 'note' && e.published !== undefined)! : undefined
      const [event] = Object.values(JSON.parse(live!.published!) as Record<string, unknown>)
      await server.publish(botChannel, event)
      expect(await c.next()).toBe(frames[4])
    })

    it('replays the target channel, then global, and never sends a held live event twice', async () => {
      server = await startTestServer({ positions: false, donePriorDelayMs: 50 }, backend)
      await server.publish('global', { m: { e: 19, eid: 'g-1', ts: 1, t: -1 }, ctx: { user: null } })
      await server.publish(botChannel, { m: { e: 16, eid: 'b-1', ts: 2, t: -1 }, ctx: { user: '1' } })
      const { client: c } = await client({ send_all: true })
      const replay = await c.next()
      expect(segments(replay).map((s) => (JSON.parse(s) as { chan: string }).chan)).toEqual([botChannel, 'global'])
      expect(normalizeTs(await c.next())).toContain('"code":"done_prior"')
      await server.publish('global', { m: { e: 19, eid: 'g-2', ts: 3, t: -1 }, ctx: { user: null } })
      expect(await c.next()).toBe(
        '{"chan":"global","code":"event","control":false,"dat":{"ctx":{"user":null},"m":{"e":19,"eid":"g-2","t":-1,"ts":3}},"detail":null}\x1f',
      )
    })

    it('sends done_prior even when nothing is stored', async () => {
      server = await startTestServer({ positions: false, donePriorDelayMs: 20 }, backend)
      const { client: c, ready } = await client({ send_all: true })
      const remaining = /"requests_remaining":(-?\d+)/.exec(ready)![1]
      expect(normalizeTs(await c.next())).toBe(
        `{"code":"done_prior","detail":"Done sending all prior messages","ts":0,"requests_remaining":${remaining},"control":true}`,
      )
    })
  })

  describe('send_none (recording d)', () => {
    const recorded = fixture('d')

    it('with send_all: replay and done_prior, then no live events; alone: no events at all', async () => {
      server = await startTestServer({ positions: false, donePriorDelayMs: 50 }, backend)
      const frames = recvs(recorded)
      for (const event of eventsIn(frames[2]!)) await server.publish(botChannel, event)

      const { client: both, ready } = await client({ send_all: true, send_none: true })
      expect(normalizeTs(ready)).toBe(normalizeTs(frames[1]!))
      expect(segments(await both.next()).sort()).toEqual(segments(frames[2]!).sort())
      expect(normalizeTs(await both.next())).toBe(normalizeTs(frames[3]!))

      const { client: noneOnly, ready: readyNone } = await client({ send_all: false, send_none: true })
      expect(normalizeTs(readyNone)).toBe(normalizeTs(recvs(recorded, 'none-only')[1]!))

      const live = recorded.find((e) => e.kind === 'note' && e.published !== undefined)!
      const [event] = Object.values(JSON.parse(live.published!) as Record<string, unknown>)
      await server.publish(botChannel, event)
      await server.publish('global', { m: { e: 19 }, ctx: {} })
      await quietFor(150)
      expect(both.unread).toEqual([])
      expect(noneOnly.unread).toEqual([])
    })
  })

  describe('channels', () => {
    it('delivers bot-<id> to the bot, server-<id> to the server, global to both', async () => {
      server = await startTestServer({ positions: false }, backend)
      const { client: bot } = await client()
      const { client: guild } = await client({ id: RecordedServer.id, token: RecordedServer.token, bot: false })
      await server.publish(`server-${RecordedServer.id}`, { m: { e: 71, eid: 's', ts: 1, t: -1 }, ctx: { user: '1', votes: 1 } })
      await server.publish(botChannel, { m: { e: 0, eid: 'b', ts: 1, t: -1 }, ctx: { user: '1', votes: 1 } })
      await server.publish('global', { m: { e: 19, eid: 'g', ts: 1, t: -1 }, ctx: { user: null } })
      const chans = async (c: TestClient, n: number): Promise<string[]> => {
        const seen: string[] = []
        while (seen.length < n) for (const s of segments(await c.next())) seen.push((JSON.parse(s) as { chan: string }).chan)
        return seen
      }
      expect(await chans(guild, 2)).toEqual([`server-${RecordedServer.id}`, 'global'])
      expect(await chans(bot, 2)).toEqual([botChannel, 'global'])
    })
  })
})

describe('live events held during a replay', () => {
  it('sends an event published while the replay is read once, though it is both held and replayed', async () => {
    const inner = new MemoryStore({ bots: [RecordedBot] })
    let publishDuringReplay = true
    // Publishes while the identify reads the history: the connection has joined the channel,
    // so the live copy is held, and the history read afterwards holds it too.
    const store: Store = {
      tokenOf: (kind, id) => inner.tokenOf(kind, id),
      countRequest: (key, cost, windowMs) => inner.countRequest(key, cost, windowMs),
      publish: (channel, eid, event) => inner.publish(channel, eid, event),
      subscribe: (channel, listener) => inner.subscribe(channel, listener),
      close: () => inner.close(),
      async storedEvents(channel) {
        if (channel === botChannel && publishDuringReplay) {
          publishDuringReplay = false
          await inner.publish(botChannel, 'held', { m: { e: 16, eid: 'held', ts: 2, t: -1 }, ctx: { user: '1' } })
          await inner.publish('global', 'held-global', { m: { e: 19, eid: 'held-global', ts: 3, t: -1 }, ctx: { user: null } })
        }
        return inner.storedEvents(channel)
      },
    }
    server = await startTestServer({ store, donePriorDelayMs: 50 }, { ...memoryBackend, prepare: async () => ({}) })
    await server.publish(botChannel, { m: { e: 16, eid: 'before', ts: 1, t: -1 }, ctx: { user: '1' } })
    const { client: c } = await client({ send_all: true })
    const eids: string[] = []
    let frame = await c.next()
    while (!frame.includes('"code":"done_prior"')) {
      for (const segment of segments(frame)) eids.push((JSON.parse(segment) as { dat: { m: { eid: string } } }).dat.m.eid)
      frame = await c.next()
    }
    await server.publish(botChannel, { m: { e: 16, eid: 'after', ts: 4, t: -1 }, ctx: { user: '1' } })
    for (const segment of segments(await c.next())) eids.push((JSON.parse(segment) as { dat: { m: { eid: string } } }).dat.m.eid)
    await quietFor(100)
    expect(c.unread).toEqual([])
    expect(eids).toEqual(['before', 'held', 'held-global', 'after'])
  })
})

describe('the batching writer', () => {
  it('writes events queued in one turn as E1\\x1f\\x1fE2\\x1f\\x1fE3\\x1f', async () => {
    server = await startTestServer({ positions: false })
    const { client: c } = await client()
    const events = [1, 2, 3].map((n) => ({ m: { e: 16, eid: `e${n}`, ts: n, t: -1 }, ctx: { user: `${n}`, widget: false } }))
    await Promise.all(events.map((event) => server!.publish(botChannel, event)))
    const wrapped = events.map(
      (e) =>
        `{"chan":"${botChannel}","code":"event","control":false,"dat":{"ctx":{"user":"${e.ctx.user}","widget":false},"m":{"e":16,"eid":"${e.m.eid}","t":-1,"ts":${e.m.ts}}},"detail":null}`,
    )
    expect(await c.next()).toBe(`${wrapped[0]}\x1f\x1f${wrapped[1]}\x1f\x1f${wrapped[2]}\x1f`)
  })

  it('drains a slow reader’s backlog into large frames, in order, losing nothing', async () => {
    server = await startTestServer({ highWaterBytes: 16 * 1024 })
    const { client: c } = await client()
    const socket = (c.ws as unknown as { _socket: Socket })._socket
    socket.pause()
    const total = 5000
    // Enough bytes to fill the kernel's loopback buffers (several MB) behind the paused reader.
    const padding = 'x'.repeat(4000)
    for (let n = 0; n < total; n++) {
      void server.publish(botChannel, { m: { e: 16, eid: `e${n}`, ts: n, t: -1 }, ctx: { user: '1', n, padding } })
      // Let the writer run between chunks, as a live stream would.
      if (n % 50 === 49) await new Promise((resolve) => setImmediate(resolve))
    }
    socket.resume()
    const seen: number[] = []
    let largest = 0
    let frames = 0
    while (seen.length < total) {
      const frame = await c.next(15_000)
      expect(frame).toMatch(EventFramePattern)
      const events = eventsIn(frame) as { ctx: { n: number } }[]
      largest = Math.max(largest, events.length)
      frames++
      for (const event of events) seen.push(event.ctx.n)
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, n) => n))
    // Chunks were 50 events; a bigger frame can only come from a backlog drained at once.
    expect(largest).toBeGreaterThan(50)
    expect(frames).toBeLessThan(total / 50)
  })

  it('closes a connection that cannot keep up with 4500 instead of buffering without bound', async () => {
    server = await startTestServer({ highWaterBytes: 1024, maxQueuedEvents: 200, history: 50 })
    const { client: c } = await client()
    const socket = (c.ws as unknown as { _socket: Socket })._socket
    socket.pause()
    const padding = 'x'.repeat(4000)
    // 20 MB: more than the kernel's loopback buffers can hold behind a paused reader.
    for (let n = 0; n < 5000; n++) {
      void server.publish(botChannel, { m: { e: 16 }, ctx: { user: '1', padding } })
      if (n % 20 === 19) await new Promise((resolve) => setImmediate(resolve))
    }
    socket.resume()
    expect(await c.closed).toEqual({ code: 4500, reason: 'Internal Server Error, try reconnecting?' })
  })
})
