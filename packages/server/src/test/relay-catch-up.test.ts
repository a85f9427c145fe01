// A relay's store over real sockets, in process: what the origin published while the relay's
// upstream was closed (past `--upstream-grace`) reaches the viewers who come back, exactly and
// never claimed before it is stored, their identify held meanwhile (not bounced); and a store
// that fails for a moment loses no upstream event.
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { connect, type PersistStore } from '@fates-rx/core'
import { CloseCode, CloseInfo, RelayControlCode } from '@fates-rx/core/protocol'
import { silentLogger, type Logger } from '../log.js'
import { protocolRules, resolveOptions } from '../options.js'
import { makeServer, type FatesServer } from '../protocol/make-server.js'
import { NodeTimers, type ProtocolTimers } from '../protocol/timers.js'
import { CatchingUpDetail, HoldMs, WaitingGraceMs } from '../relay/machine.js'
import { resolveRelay } from '../relay/options.js'
import { Relay } from '../relay/relay.js'
import type { EventToStore } from '../stores/store.js'
import { MemoryStore } from '../stores/memory.js'
import { startServer, type RunningServer } from '../start.js'
import { useServer } from '../use/ws.js'
import { identified, quietFor, RecordedBot, segments, startTestServer, TestClient, until } from './harness.js'

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
  readonly detail?: string
  readonly control?: boolean
  readonly channels?: Record<string, string>
  readonly dat?: { m: { pos?: string }; ctx: { user: string } }
}

const payloads = (client: TestClient): Payload[] => client.frames.flatMap((f) => segments(f).map((s) => JSON.parse(s) as Payload))
const users = (client: TestClient): string[] => payloads(client).flatMap((p) => (p.code === 'event' && p.dat !== undefined ? [p.dat.ctx.user] : []))
const status = (relay: Pick<RunningServer, 'upstreams'>): string | undefined => relay.upstreams()[0]?.status

/** One sample of a server's `/metrics` (0 when absent). */
async function metric(server: RunningServer, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${server.adminToken}` } })).text()
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

/**
 * An origin and a relay in front of it whose upstream for the bot has been live, then closed by
 * the grace period: the relay is behind. The position is that of the event its viewer got.
 */
async function behindRelay(): Promise<{ origin: RunningServer; relay: RunningServer & { log: string[] }; position: string }> {
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
  return { origin, relay, position: position! }
}

describe('a relay back from its grace period', () => {
  it('holds a returning viewer until it stored what was published meanwhile, then resumes it exactly with it, with one identify and no 4000; a fresh viewer is not sent that gap', async () => {
    const { origin, relay, position } = await behindRelay()

    // Nobody watches through the relay: it has no upstream connection when this is published.
    await origin.publish(Channel, view('2'))

    // The viewer comes back (a reload), resuming after event 1 as core's client does: one
    // identify, held while the relay reopens its upstream and stores the gap, then answered.
    const returned = await TestClient.open(relay.url)
    cleanups.push(() => void returned.ws.terminate())
    await returned.next()
    returned.send(JSON.stringify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true, after: { [Channel]: position } }))
    const reply = JSON.parse(await returned.next(HoldMs)) as Payload
    expect(reply.code).toBe('ready')
    await until('the replay of event 2 and done_prior', () => payloads(returned).some((p) => p.code === 'done_prior'))
    // ready, then the gap exactly, then done_prior: nothing before ready, nothing twice.
    expect(payloads(returned).map((p) => p.code)).toEqual(['identity', 'ready', 'resume', 'event', 'done_prior'])
    expect(users(returned)).toEqual(['2'])
    expect(payloads(returned).find((p) => p.code === 'resume')?.channels?.[Channel]).toBe('exact')
    expect(relay.log.some((l) => l.endsWith('admission held (5000 ms at most)'))).toBe(true)
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
    // Never turned away: every identify at the relay was answered ready, and stayed open.
    expect(await metric(relay, `fates_identifies_total{outcome="${RelayControlCode.UpstreamConnecting}"}`)).toBe(0)
    expect(await metric(relay, 'fates_identifies_total{outcome="ready"}')).toBe(3)
    expect(returned.ws.readyState).toBe(returned.ws.OPEN)
  })

  it("lets in core's client whose ready timeout is shorter than the hold: it gives up, comes back, and finds the upstream caught up (no grace period, two identifies at the origin)", async () => {
    const origin = await startTestServer()
    cleanups.push(() => origin.close())
    const relay = await relayOf(origin, { relay: { upstream: origin.url, bots: [RecordedBot], graceMs: 0 } })
    const first = await identified(relay, { token: ViewerToken, send_all: true })
    await until('the upstream to be live', () => status(relay) === 'live')
    await first.client.close()
    await until('the upstream to close with its last viewer', () => status(relay) === 'idle')
    const states: string[] = []
    const client = connect({ url: relay.url, id: RecordedBot.id, token: ViewerToken, sendAll: true, readyTimeoutMs: 300, backoff: { initialDelayMs: 100, maxDelayMs: 200 } })
    const subscription = client.status$.subscribe((s) => states.push(s.state))
    cleanups.push(() => subscription.unsubscribe())
    await until('live', () => states.includes('live'))
    // It timed out at least once while held; the upstream reopened once, for both attempts.
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThan(0)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', opened: 2 })
    expect(await metric(origin, 'fates_identifies_total{outcome="ready"}')).toBe(2)
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
    // One identify: held, never bounced into a reconnect.
    expect(after.seen.filter((s) => s === 'identifying')).toEqual(['identifying'])
    expect(after.seen).not.toContain('reconnecting')
    expect(await metric(relay, `fates_identifies_total{outcome="${RelayControlCode.UpstreamConnecting}"}`)).toBe(0)
  })
})

/** Node's timers, counting the one-shot timers still armed (by their delay). */
function countedTimers(): ProtocolTimers & { armed(ms?: number): number } {
  const live = new Set<{ readonly ms: number }>()
  return {
    after(ms, callback) {
      const entry = { ms }
      live.add(entry)
      const handle = NodeTimers.after(ms, () => {
        live.delete(entry)
        callback()
      })
      return {
        refresh: () => handle.refresh(),
        cancel: () => {
          live.delete(entry)
          handle.cancel()
        },
      }
    },
    every: NodeTimers.every,
    soon: NodeTimers.soon,
    armed: (ms) => [...live].filter((entry) => ms === undefined || entry.ms === ms).length,
  }
}

/**
 * A relay built from its parts on a real socket (as `startServer` builds it), on timers that
 * count what is armed: the protocol logic's and the relay's own.
 */
async function countedRelay(origin: RunningServer): Promise<{ url: string; server: FatesServer; relay: Relay; timers: ReturnType<typeof countedTimers>; outcomes: string[] }> {
  const timers = countedTimers()
  const outcomes: string[] = []
  const config = resolveOptions({})
  let server: FatesServer | undefined
  const relay = new Relay(resolveRelay({ upstream: origin.url, bots: [RecordedBot], graceMs: 200 }), {
    publish: (requests, options) => server!.publishMany(requests, options),
    logger: silentLogger,
    timers,
  })
  server = makeServer({
    store: new MemoryStore({ bots: [{ id: RecordedBot.id, token: ViewerToken }] }),
    logger: silentLogger,
    ...protocolRules(config),
    now: Date.now,
    timers,
    observer: { identified: (outcome) => void outcomes.push(outcome) },
    viewers: relay,
  })
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws' })
  await once(wss, 'listening')
  useServer(server, wss)
  const built = server
  cleanups.push(async () => {
    await relay.close()
    await built.closeAll()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ws`, server: built, relay, timers, outcomes }
}

/**
 * A {@link countedRelay} whose upstream was live for a viewer, then closed by the grace period
 * (the relay is behind), in front of an origin that is gone since: a reopening cannot catch up.
 */
async function stuckBehind(): Promise<Awaited<ReturnType<typeof countedRelay>>> {
  const origin = await startTestServer()
  cleanups.push(() => origin.close())
  const built = await countedRelay(origin)
  const first = await TestClient.open(built.url)
  cleanups.push(() => void first.ws.terminate())
  await first.next()
  expect(JSON.parse(await first.identify({ id: RecordedBot.id, token: ViewerToken, bot: true }))).toMatchObject({ code: 'ready' })
  await until('the upstream to be live', () => status(built.relay) === 'live')
  await first.close()
  await until('the grace period to close the upstream', () => status(built.relay) === 'idle')
  await origin.close()
  await until('the first connection to be forgotten', () => built.server.connections === 0)
  expect(built.timers.armed()).toBe(0)
  built.outcomes.splice(0)
  return built
}

/** A viewer of the relay that identified (with `send_all`) and has no answer yet. */
async function identifying(url: string): Promise<TestClient> {
  const client = await TestClient.open(url)
  cleanups.push(() => void client.ws.terminate())
  await client.next()
  client.send(JSON.stringify({ id: RecordedBot.id, token: ViewerToken, bot: true, send_all: true }))
  return client
}

describe('a viewer held while the relay cannot catch up (its origin is gone)', () => {
  it('is turned away as before past HoldMs (upstream_connecting, 4000), and the reopened upstream waits WaitingGraceMs for its return', async () => {
    const { url, server, relay, timers, outcomes } = await stuckBehind()
    const sent = Date.now()
    const client = await identifying(url)
    const reply = JSON.parse(await client.next(HoldMs + 5_000)) as Payload
    const waited = Date.now() - sent
    expect(reply).toMatchObject({ code: RelayControlCode.UpstreamConnecting, detail: CatchingUpDetail })
    expect(await client.closed).toEqual({ code: CloseCode.InvalidConnection, reason: CloseInfo[CloseCode.InvalidConnection].reason })
    expect(waited).toBeGreaterThanOrEqual(HoldMs - 50)
    expect(waited).toBeLessThan(HoldMs + 2_000)
    expect(outcomes).toEqual([RelayControlCode.UpstreamConnecting])
    // The relay let go of it, and keeps the upstream opening for its return (not the 200 ms grace).
    await until('the connection to be forgotten', () => server.connections === 0)
    expect(timers.armed(HoldMs)).toBe(0)
    expect(timers.armed(WaitingGraceMs)).toBe(1)
    expect(timers.armed()).toBe(1)
    await quietFor(500)
    expect(status(relay)).toBe('connecting')
  })

  it('that closes leaves no trace: its hold\'s timer is cancelled, the relay lets go of it, and the reopened upstream waits WaitingGraceMs for its return, then closes', async () => {
    const { url, server, relay, timers, outcomes } = await stuckBehind()
    const held = await identifying(url)
    await until('the hold', () => timers.armed(HoldMs) === 1)
    expect(status(relay)).toBe('connecting')
    expect(server.connectionStates()).toMatchObject({ identifying: 1, ready: 0 })
    await held.close()
    expect(held.frames).toHaveLength(1)

    // Gone: its connection forgotten with every timer of it, and nothing holds the upstream but
    // the grace timer, as long as for one turned away (a client whose own ready timeout ran out
    // comes back on its backoff).
    await until('the connection to be forgotten', () => server.connections === 0)
    expect(timers.armed(HoldMs)).toBe(0)
    await until('the grace timer', () => timers.armed(WaitingGraceMs) === 1)
    await relay.close()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle', viewers: 0, opened: 2 })
    expect(timers.armed()).toBe(0)
    // It was never answered, so never counted as an identify.
    expect(outcomes).toEqual([])
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
