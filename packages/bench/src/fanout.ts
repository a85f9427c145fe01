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
import { nextMessage, start, stop, within } from './child.js'
import { benchBots, type MemoryStats } from './fanout-shared.js'
import type { Row } from './harness.js'
import { median } from './stats.js'

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
  /** Handshakes in flight at once while the clients connect. @default 100 */
  readonly concurrency?: number
}

/** What the issue says the original Go server achieved on a machine like these. */
export const Original = Object.freeze({ eventsPerSecond: 60_000, handshakesPerSecond: 1_600 } as const)

type Kind = 'bare' | 'fates'
const Script: Readonly<Record<Kind, string>> = { bare: './fanout-bare.js', fates: './fanout-server.js' }
const Label: Readonly<Record<Kind, string>> = { bare: 'bare ws broadcast', fates: '@fates-rx/server' }

interface Published {
  readonly type: 'published'
  readonly startAt: number
  readonly endAt: number
}
interface ServerStats extends MemoryStats {
  readonly type: 'stats'
}
interface Connected {
  readonly type: 'connected'
  readonly clients: number
  readonly failures: number
  readonly firstError: string
  readonly seconds: number
}
interface Received {
  readonly type: 'received'
  readonly timedOut: boolean
  readonly received: number
  readonly duplicates: number
  readonly outOfOrder: number
  readonly clientsOutOfOrder: number
  readonly lastAt: number
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

function ask<T extends { type: string }>(child: ChildProcess, message: object, type: T['type']): Promise<T> {
  const reply = nextMessage<T>(child, (m) => m.type === type)
  child.send(message)
  return reply
}

async function trial(kind: Kind, clients: number, events: number, concurrency: number): Promise<Trial> {
  // A fresh server per trial, so that its peak RSS belongs to this client count.
  const server = await start<{ url: string }>(Script[kind], [String(clients)])
  try {
    const client = await start<{ type: 'hello' }>('./fanout-clients.js')
    try {
      const connected = await ask<Connected>(client.child, { type: 'connect', url: server.hello.url, bots: benchBots(clients), concurrency }, 'connected')
      if (connected.failures > 0) throw new Error(`${Label[kind]}: ${connected.failures} of ${clients} clients failed to connect: ${connected.firstError}`)
      const idle = await ask<ServerStats>(server.child, { type: 'stats' }, 'stats')
      await ask(client.child, { type: 'expect', count: events, timeoutMs: 60_000 }, 'expecting')
      const received = nextMessage<Received>(client.child, (m) => m.type === 'received')
      const published = await ask<Published>(server.child, { type: 'publish', count: events }, 'published')
      const got = await received
      const stats = await ask<ServerStats>(server.child, { type: 'stats' }, 'stats')
      await ask(client.child, { type: 'close' }, 'closed')
      return {
        eventsPerSecond: got.received / ((got.lastAt - published.startAt) / 1e6),
        handshakesPerSecond: connected.clients / connected.seconds,
        lost: clients * events - got.received,
        duplicates: got.duplicates,
        outOfOrder: got.outOfOrder,
        timedOut: got.timedOut,
        publishSeconds: (published.endAt - published.startAt) / 1e6,
        peakRss: stats.peakRss,
        connectedRss: idle.rss,
        heapUsed: stats.heapUsed,
      }
    } finally {
      await stop(client.child)
    }
  } finally {
    await stop(server.child)
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
  const concurrency = options.concurrency ?? 100
  const rows: Row[] = []
  for (const { clients, events } of cases) {
    const trials: Record<Kind, Trial[]> = { bare: [], fates: [] }
    for (let round = 0; round < rounds; round++) {
      const order: Kind[] = round % 2 === 0 ? ['bare', 'fates'] : ['fates', 'bare']
      for (const kind of order) trials[kind].push(await within(trial(kind, clients, events, concurrency), 180_000, `${Label[kind]} with ${clients} clients`))
    }
    const params = { section: 'fanout', clients, eventsPublished: events, deliveries: clients * events, channel: 'global', rounds, concurrency }
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
          params: { section: 'fanout', clients, rounds, concurrency },
          metrics: { timesOriginal: Math.round((rate / Original.handshakesPerSecond) * 100) / 100 },
          ...(kind === 'fates' ? { target: { text: '≥ 3000 handshakes/s', met: rate >= 3000 } } : {}),
        })
      }
    }
  }
  return rows
}
