/**
 * Section 4: `@fates-rx/server` delivering events published on `global` to 1, 100 and 1000
 * clients on loopback, against a bare `ws` broadcaster (fanout-bare.ts, the limit) in
 * alternating trials.
 *
 * Three processes per trial: the server (one core), all the clients in a second process (the
 * other core), and this one, which only orchestrates over IPC and sleeps meanwhile. On a
 * 2-core machine that is the fairest split: more client processes would only time-share the
 * same cores with the server, and clients inside the server's process would charge their work
 * to the server. The clients read only a sequence number (no `JSON.parse`) to stay light.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process'
import { nextMessage, start, stop, within } from '../child.js'
import { benchBots } from '../fanout-shared.js'
import type { Row } from '../harness.js'
import type {
  ClientsHello,
  Connected,
  FanoutClientsCommand,
  FanoutClientsReply,
  FanoutServerCommand,
  FanoutServerHello,
  FanoutServerReply,
  Published,
  Received,
  ServerStats,
} from '../ipc.js'
import { startRedis } from '../redis.js'
import { median } from '../stats.js'

/** One client count and how many events to publish for it. */
export interface FanoutCase {
  readonly clients: number
  readonly events: number
}

/** Options of {@link benchFanout}. */
export interface FanoutOptions {
  /** @default 1 client × 50k events, 100 × 5000, 1000 × 1000 */
  readonly cases?: readonly FanoutCase[]
  /** Trials of each server per case. @default 3 */
  readonly rounds?: number
  /** Handshakes in flight at once while the clients connect, per client process. @default 50 */
  readonly concurrency?: number
  /** Processes the clients are spread over (fewer when there are fewer clients). @default 2 */
  readonly clientProcesses?: number
}

/** What the issue says the original Go server achieved on a machine like these. */
export const Original = Object.freeze({ eventsPerSecond: 60_000, handshakesPerSecond: 1_600 } as const)

type Kind = 'bare' | 'fates' | 'redis'
const Script: Readonly<Record<Kind, string>> = { bare: './children/fanout-bare.js', fates: './children/fanout-server.js', redis: './children/fanout-server.js' }
const Label: Readonly<Record<Kind, string>> = {
  bare: 'bare ws broadcast',
  fates: '@fates-rx/server',
  redis: '@fates-rx/server on Redis',
}

/** One trial's measurements. */
interface Trial {
  readonly eventsPerSecond: number
  readonly handshakesPerSecond: number
  readonly lost: number
  readonly duplicates: number
  readonly outOfOrder: number
  readonly timedOut: boolean
  readonly publishSeconds: number
  readonly peakRss: number
  /** RSS once every client is ready, before any event: what the connections cost. */
  readonly connectedRss: number
  /** Heap used after the run (not collected first). */
  readonly heapUsed: number
}

/** Sends `message` to a fan-out server and resolves with its answer of type `type`. */
export function askServer<T extends FanoutServerReply>(child: ChildProcess, message: FanoutServerCommand, type: T['type']): Promise<T> {
  const reply = nextMessage<FanoutServerReply>(child, (m) => m.type === type) as Promise<T>
  child.send(message)
  return reply
}

/** Sends `message` to a client process and resolves with its answer of type `type`. */
export function askClients<T extends FanoutClientsReply>(child: ChildProcess, message: FanoutClientsCommand, type: T['type']): Promise<T> {
  const reply = nextMessage<FanoutClientsReply>(child, (m) => m.type === type) as Promise<T>
  child.send(message)
  return reply
}

async function trial(kind: Kind, clients: number, events: number, concurrency: number, processes: number): Promise<Trial> {
  // A fresh server per trial, so that its peak RSS belongs to this client count; on Redis a
  // fresh, empty Redis too, since each publish rewrites the channel's whole stored map.
  const redis = kind === 'redis' ? await startRedis() : undefined
  const server = await start<FanoutServerHello>(Script[kind], redis === undefined ? [String(clients)] : [String(clients), redis.url])
  const groups: ChildProcess[] = []
  try {
    const count = Math.max(1, Math.min(processes, clients))
    for (let i = 0; i < count; i++) groups.push((await start<ClientsHello>('./children/fanout-clients.js')).child)
    const bots = benchBots(clients)
    const share = Math.ceil(clients / count)
    const connected = await Promise.all(
      groups.map((child, i) =>
        askClients<Connected>(child, { type: 'connect', url: server.hello.url, bots: bots.slice(i * share, (i + 1) * share), concurrency }, 'connected'),
      ),
    )
    const failed = connected.find((c) => c.failures > 0)
    if (failed !== undefined) throw new Error(`${Label[kind]}: ${failed.failures} clients failed to connect: ${failed.firstError}`)
    const handshakeSeconds = (Math.max(...connected.map((c) => c.endAt)) - Math.min(...connected.map((c) => c.startAt))) / 1e6
    const idle = await askServer<ServerStats>(server.child, { type: 'stats' }, 'stats')
    await Promise.all(groups.map((child) => askClients(child, { type: 'expect', count: events, timeoutMs: 60_000 }, 'expecting')))
    const received = Promise.all(groups.map((child) => nextMessage<FanoutClientsReply>(child, (m) => m.type === 'received') as Promise<Received>))
    const published = await askServer<Published>(server.child, { type: 'publish', count: events }, 'published')
    const got = await received
    const stats = await askServer<ServerStats>(server.child, { type: 'stats' }, 'stats')
    await Promise.all(groups.map((child) => askClients(child, { type: 'close' }, 'closed')))
    const sum = (pick: (r: Received) => number): number => got.reduce((total, r) => total + pick(r), 0)
    const lastAt = Math.max(...got.map((r) => r.lastAt))
    return {
      eventsPerSecond: sum((r) => r.received) / ((lastAt - published.startAt) / 1e6),
      handshakesPerSecond: clients / handshakeSeconds,
      lost: clients * events - sum((r) => r.received),
      duplicates: sum((r) => r.duplicates),
      outOfOrder: sum((r) => r.outOfOrder),
      timedOut: got.some((r) => r.timedOut),
      publishSeconds: (published.endAt - published.startAt) / 1e6,
      peakRss: stats.peakRss,
      connectedRss: idle.rss,
      heapUsed: stats.heapUsed,
    }
  } finally {
    for (const child of groups) await stop(child)
    await stop(server.child)
    await redis?.close()
  }
}

const MB = 2 ** 20
const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** Section 4's rows: per client count the bare broadcaster and the server, then handshakes. */
export async function benchFanout(options: FanoutOptions = {}): Promise<Row[]> {
  const cases = options.cases ?? [
    { clients: 1, events: 50_000 },
    { clients: 100, events: 5_000 },
    { clients: 1000, events: 1_000 },
  ]
  const rounds = options.rounds ?? 3
  const concurrency = options.concurrency ?? 50
  const processes = options.clientProcesses ?? 2
  const rows: Row[] = []
  for (const { clients, events } of cases) {
    const trials: Record<'bare' | 'fates', Trial[]> = { bare: [], fates: [] }
    for (let round = 0; round < rounds; round++) {
      const order: ('bare' | 'fates')[] = round % 2 === 0 ? ['bare', 'fates'] : ['fates', 'bare']
      for (const kind of order) trials[kind].push(await within(trial(kind, clients, events, concurrency, processes), 180_000, `${Label[kind]} with ${clients} clients`))
    }
    const params = { section: 'fanout', clients, eventsPublished: events, deliveries: clients * events, channel: 'global', rounds, concurrency, clientProcesses: Math.min(processes, clients) }
    const paired = (pick: (t: Trial) => number): number =>
      round3(median(trials.fates.map((t, i) => pick(t) / pick(trials.bare[i] as Trial))))
    for (const kind of ['bare', 'fates'] as const) {
      const ts = trials[kind]
      const eventsPerSecond = Math.round(median(ts.map((t) => t.eventsPerSecond)))
      const lost = ts.reduce((sum, t) => sum + t.lost, 0)
      const outOfOrder = ts.reduce((sum, t) => sum + t.outOfOrder, 0)
      const peak = Math.max(...ts.map((t) => t.peakRss))
      const met =
        eventsPerSecond >= 5 * Original.eventsPerSecond && lost === 0 && outOfOrder === 0 && (clients < 1000 || peak < 300 * MB)
      rows.push({
        name: `fan-out: ${Label[kind]} → ${clients} client${clients === 1 ? '' : 's'}`,
        eventsPerSecond,
        ratio: kind === 'bare' ? null : paired((t) => t.eventsPerSecond),
        ...(kind === 'bare' ? {} : { baseline: `fan-out: ${Label.bare} → ${clients} client${clients === 1 ? '' : 's'}` }),
        params,
        metrics: {
          timesOriginal: Math.round((eventsPerSecond / Original.eventsPerSecond) * 10) / 10,
          lost,
          duplicates: ts.reduce((sum, t) => sum + t.duplicates, 0),
          outOfOrder,
          timedOut: ts.some((t) => t.timedOut),
          publishSeconds: round3(median(ts.map((t) => t.publishSeconds))),
          peakRssMB: Math.round(peak / MB),
          connectedRssMB: Math.round(median(ts.map((t) => t.connectedRss)) / MB),
          heapUsedAfterMB: Math.round(median(ts.map((t) => t.heapUsed)) / MB),
        },
        ...(kind === 'fates' && clients >= 100
          ? { target: { text: `≥ 300k/s (5× original), none lost, in order${clients >= 1000 ? ', RSS < 300 MB' : ''}`, met } }
          : {}),
      })
    }
    if (clients === Math.max(...cases.map((c) => c.clients))) {
      for (const kind of ['bare', 'fates'] as const) {
        const rate = Math.round(median(trials[kind].map((t) => t.handshakesPerSecond)))
        rows.push({
          name: `handshakes: ${Label[kind]}, connect + identify → ready`,
          eventsPerSecond: rate,
          ratio: kind === 'bare' ? null : paired((t) => t.handshakesPerSecond),
          ...(kind === 'bare' ? {} : { baseline: `handshakes: ${Label.bare}, connect + identify → ready` }),
          params: { section: 'fanout', clients, rounds, concurrency, clientProcesses: Math.min(processes, clients) },
          metrics: { timesOriginal: Math.round((rate / Original.handshakesPerSecond) * 100) / 100 },
          ...(kind === 'fates' ? { target: { text: '≥ 3000 handshakes/s', met: rate >= 3000 } } : {}),
        })
      }
    }
  }
  return rows
}

/** Options of {@link benchFanoutRedis}. */
export interface FanoutRedisOptions {
  /**
   * Small on purpose: like the original, each publish through Redis rewrites the channel's
   * whole stored map, so a trial's cost grows with the square of its events.
   * @default 1 client × 500 events, 100 × 300, 1000 × 100
   */
  readonly cases?: readonly FanoutCase[]
  /** Trials of each backend per case. @default 2 */
  readonly rounds?: number
  /** @default 50 */
  readonly concurrency?: number
  /** @default 2 */
  readonly clientProcesses?: number
}

/**
 * Section 4's Redis variant (issue 8): the same server with its events stored and published
 * through a real redis-server, against the in-memory server in alternating trials, so the
 * ratio is what Redis costs. The issue sets no target for it.
 */
export async function benchFanoutRedis(options: FanoutRedisOptions = {}): Promise<Row[]> {
  const cases = options.cases ?? [
    { clients: 1, events: 500 },
    { clients: 100, events: 300 },
    { clients: 1000, events: 100 },
  ]
  const rounds = options.rounds ?? 2
  const concurrency = options.concurrency ?? 50
  const processes = options.clientProcesses ?? 2
  const rows: Row[] = []
  for (const { clients, events } of cases) {
    const trials: Record<'fates' | 'redis', Trial[]> = { fates: [], redis: [] }
    for (let round = 0; round < rounds; round++) {
      const order: ('fates' | 'redis')[] = round % 2 === 0 ? ['fates', 'redis'] : ['redis', 'fates']
      for (const kind of order) trials[kind].push(await within(trial(kind, clients, events, concurrency, processes), 180_000, `${Label[kind]} with ${clients} clients`))
    }
    const ts = trials.redis
    const plural = clients === 1 ? '' : 's'
    rows.push({
      name: `fan-out: ${Label.redis} → ${clients} client${plural}`,
      eventsPerSecond: Math.round(median(ts.map((t) => t.eventsPerSecond))),
      ratio: round3(median(ts.map((t, i) => t.eventsPerSecond / (trials.fates[i] as Trial).eventsPerSecond))),
      baseline: `${Label.fates} in memory, same trial sizes`,
      params: { section: 'fanout-redis', clients, eventsPublished: events, deliveries: clients * events, channel: 'global', rounds, concurrency },
      metrics: {
        inMemoryEventsPerSecond: Math.round(median(trials.fates.map((t) => t.eventsPerSecond))),
        lost: ts.reduce((sum, t) => sum + t.lost, 0),
        duplicates: ts.reduce((sum, t) => sum + t.duplicates, 0),
        outOfOrder: ts.reduce((sum, t) => sum + t.outOfOrder, 0),
        timedOut: ts.some((t) => t.timedOut),
        peakRssMB: Math.round(Math.max(...ts.map((t) => t.peakRss)) / MB),
      },
    })
  }
  return rows
}
