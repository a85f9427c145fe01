// A relay's store over real sockets, in process: what the origin published while the relay's
// upstream was closed (past `--upstream-grace`) reaches the viewers who come back, exactly and
// never claimed before it is stored; and a store that fails for a moment loses no upstream event.
import { afterEach, describe, expect, it } from 'vitest'
import { connect, type PersistStore } from '@fates-rx/core'
import { CloseCode, RelayControlCode } from '@fates-rx/core/protocol'
import type { Logger } from '../log.js'
import type { EventToStore } from '../stores/store.js'
import { MemoryStore } from '../stores/memory.js'
import { startServer, type RunningServer } from '../start.js'
import { identified, quietFor, RecordedBot, segments, startTestServer, TestClient } from './harness.js'

const ViewerToken = 'viewer-token-public'
const Channel = `bot-${RecordedBot.id}`

const cleanups: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A bot view by `user`: the events of these tests, told apart by their user. */
const view = (user: string) => ({ m: { e: 16 }, ctx: { user, widget: false } })

/** A logger that keeps its lines. */
function recording(): Logger & { lines: string[] } {
  const lines: string[] = []
  return { lines, info: (line) => void lines.push(line), error: (line) => void lines.push(`ERR ${line}`) }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await quietFor(20)
  }
}

async function relayOf(origin: RunningServer, more: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer & { log: string[] }> {
  const logger = recording()
  const relay = await startServer({
    host: '127.0.0.1',
    port: 0,
    bots: [{ id: RecordedBot.id, token: ViewerToken }],
    logger,
    relay: { upstream: origin.url, bots: [RecordedBot], graceMs: 200 },
    ...more,
  })
  cleanups.push(() => relay.close())
  return Object.assign(relay, { log: logger.lines })
}

interface Payload {
  readonly code: string
  readonly control?: boolean
  readonly channels?: Record<string, string>
  readonly dat?: { m: { pos?: string }; ctx: { user: string } }
}

const payloads = (client: TestClient): Payload[] => client.frames.flatMap((f) => segments(f).map((s) => JSON.parse(s) as Payload))
const users = (client: TestClient): string[] => payloads(client).flatMap((p) => (p.code === 'event' && p.dat !== undefined ? [p.dat.ctx.user] : []))
const status = (relay: RunningServer): string | undefined => relay.upstreams()[0]?.status

describe('a relay back from its grace period', () => {
  it('turns a returning viewer away until it stored what was published meanwhile, then resumes it exactly with it; a fresh viewer is not sent that gap', async () => {
    const origin = await startTestServer()
    cleanups.push(() => origin.close())
    const relay = await relayOf(origin)
    const first = (await identified(relay, { token: ViewerToken, send_all: true })).client
    cleanups.push(() => void first.ws.terminate())
    await until('the upstream to be live', () => status(relay) === 'live')
    await origin.publish(Channel, view('1'))
    await until('event 1', () => users(first).length === 1)
    const position = payloads(first).find((p) => p.code === 'event')?.dat?.m.pos
    expect(position).toEqual(expect.any(String))
    await first.close()
    await until('the grace period to close the upstream', () => status(relay) === 'idle')

    // Nobody watches through the relay: it has no upstream connection when this is published.
    await origin.publish(Channel, view('2'))

    // The viewer comes back (a reload), resuming after event 1 as core's client does, and
    // identifies again after each turning away, as core's client does on 4000.
    const turnedAway: string[] = []
    let back: TestClient | undefined
    while (back === undefined) {
      if (turnedAway.length > 50) throw new Error(`turned away ${turnedAway.length} times`)
      const client = await TestClient.open(relay.url)
      cleanups.push(() => void client.ws.terminate())
      await client.next()
      const reply = JSON.parse(await client.identify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true, after: { [Channel]: position } })) as Payload
      if (reply.code === 'ready') {
        back = client
        break
      }
      turnedAway.push(`${reply.code} ${(await client.closed).code}`)
      await quietFor(100)
    }
    expect(turnedAway.length).toBeGreaterThan(0)
    expect(new Set(turnedAway)).toEqual(new Set([`${RelayControlCode.UpstreamConnecting} ${CloseCode.InvalidConnection}`]))
    const returned = back
    await until('the replay of event 2', () => users(returned).length === 1)
    expect(payloads(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).toBe('exact')
    // The relay's own upstream resumed after the last event it relayed (its position, `after`):
    // the origin replayed it the gap exactly, not its whole history.
    const originMetrics = await (await fetch(`http://127.0.0.1:${origin.port}/metrics`, { headers: { authorization: `Bearer ${origin.adminToken}` } })).text()
    expect(originMetrics).toMatch(/^fates_resumes_total\{exact="true"\} 1$/m)

    // A viewer new to the target, not asking for history: what follows only.
    const fresh = await identified(relay, { token: ViewerToken })
    cleanups.push(() => void fresh.client.ws.terminate())
    expect(JSON.parse(fresh.ready)).toMatchObject({ code: 'ready' })
    await origin.publish(Channel, view('3'))
    await until('event 3', () => users(returned).length === 2 && users(fresh.client).length === 1)
    await quietFor(100)
    expect(users(returned)).toEqual(['2', '3'])
    expect(users(fresh.client)).toEqual(['3'])
    expect(relay.log.join('\n')).toContain('reopening the upstream connection (a viewer waits for what was published since it closed)')
  })

  it("core's client reloaded past the grace period (persist) gets the event published while it was away, and hears the gap filled only after it", async () => {
    const origin = await startTestServer()
    cleanups.push(() => origin.close())
    const relay = await relayOf(origin)
    const records = new Map<string, string>()
    const persist: PersistStore = { getItem: (key) => records.get(key), setItem: (key, value) => void records.set(key, value) }
    /** A page: core's client, resuming from what the last page delivered (localStorage in a browser). */
    const page = () => {
      const seen: string[] = []
      const client = connect({ url: relay.url, id: RecordedBot.id, token: ViewerToken, persist })
      client.event$.subscribe((e) => seen.push(`event ${(e.ctx as { user?: string }).user ?? e.chan}${e.resumed === true ? ' resumed' : ''}`))
      client.status$.subscribe((s) => seen.push(`${s.state}${s.gap === undefined ? '' : ` gap=${s.gap}`}`))
      cleanups.push(() => client.close())
      return { client, seen }
    }

    const before = page()
    await until('the upstream to be live', () => status(relay) === 'live' && before.seen.includes('live'))
    // One event on each channel, so that the page holds a position in both: core's client calls
    // a gap filled when every channel resumed exactly (a channel without one replays whole).
    await origin.publish('global', { m: { e: 19 }, ctx: {} })
    await origin.publish(Channel, view('1'))
    await until('event 1', () => before.seen.includes('event 1'))
    expect(before.seen.filter((s) => s.startsWith('event'))).toEqual(['event global', 'event 1'])
    before.client.close()
    await until('the grace period to close the upstream', () => status(relay) === 'idle')
    await origin.publish(Channel, view('2'))

    const after = page()
    await until('event 2', () => after.seen.includes('event 2 resumed'))
    await origin.publish(Channel, view('3'))
    await until('event 3', () => after.seen.includes('event 3'))
    const delivered = after.seen.filter((s) => s.startsWith('event'))
    expect(delivered).toEqual(['event 2 resumed', 'event 3'])
    // Live with the gap filled once, and only after the gap's event.
    const lives = after.seen.filter((s) => s.startsWith('live'))
    expect(lives).toEqual(['live gap=filled'])
    expect(after.seen.indexOf('event 2 resumed')).toBeLessThan(after.seen.indexOf('live gap=filled'))
  })
})

/** The in-memory store, failing its next `failNext` batches as a Redis blip would. */
class FlakyStore extends MemoryStore {
  failNext = 0

  override publishMany(events: readonly EventToStore[]): Promise<boolean[]> {
    if (this.failNext > 0) {
      this.failNext--
      return Promise.reject(new Error('store unavailable'))
    }
    return super.publishMany(events)
  }
}

describe('a relay whose store fails', () => {
  it('retries a failed batch in order, losing nothing; one that keeps failing does not hold up close, and the loss is logged', async () => {
    const origin = await startTestServer()
    cleanups.push(() => origin.close())
    const store = new FlakyStore({ bots: [{ id: RecordedBot.id, token: ViewerToken }] })
    // The viewer token is the store's (a server given a store takes no `bots`).
    const relay = await relayOf(origin, { store, bots: [] })
    const { client } = await identified(relay, { token: ViewerToken })
    cleanups.push(() => void client.ws.terminate())
    await until('the upstream to be live', () => status(relay) === 'live')
    await origin.publish(Channel, view('1'))
    await until('event 1', () => users(client).length === 1)

    // A blip: three attempts fail. The event after it, received meanwhile, waits behind it.
    store.failNext = 3
    await origin.publish(Channel, view('2'))
    await until('the first failure', () => relay.log.some((l) => l.includes('store unavailable')))
    await origin.publish(Channel, view('3'))
    await until('events 2 and 3', () => users(client).length === 3)
    expect(users(client)).toEqual(['1', '2', '3'])
    expect(relay.log.filter((l) => l.includes('retrying in'))).toEqual([
      'ERR storing 1 upstream events failed (attempt 1), retrying in 250 ms: store unavailable',
      'ERR storing 1 upstream events failed (attempt 2), retrying in 500 ms: store unavailable',
      'ERR storing 1 upstream events failed (attempt 3), retrying in 1000 ms: store unavailable',
    ])
    expect(relay.log).toContain('stored 1 upstream events after 3 failed attempts')

    // An outage: the retry waits, and shutting down ends the wait after one last attempt.
    store.failNext = Number.POSITIVE_INFINITY
    await origin.publish(Channel, view('4'))
    await until('the first retry to wait', () => relay.log.filter((l) => l.includes('retrying in')).length === 4)
    const closing = Date.now()
    await relay.close()
    expect(Date.now() - closing).toBeLessThan(1_000)
    expect(relay.log).toContain('ERR storing 1 upstream events failed as the relay closes, 1 lost: store unavailable')
  })
})
