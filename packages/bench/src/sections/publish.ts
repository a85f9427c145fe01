/**
 * Section publish (issue 20 item 3, "publish keeps up"): `POST /publish` on the server's memory
 * store against a bare `node:http` + `ws` server (children/publish-bare.ts) that accepts the
 * same bodies, parses them and broadcasts them to the same client, in alternating trials of
 * the same run; and Redis fan-out to one client against the same server in memory.
 *
 * Three processes: the server under test (one core), the baseline (idle while the server is
 * measured) and this one, which sends the requests and is the one client. The request bodies
 * are serialized before the clock starts, and the client counts events by their separators
 * without parsing them, so that the load generator is as light as it can be and the ratio is
 * the servers'.
 *
 * @packageDocumentation
 */
import { Protocol } from '@fates-rx/core/protocol'
import WebSocket from 'ws'
import { start, stop, within } from '../child.js'
import { benchBots } from '../fanout-shared.js'
import type { Row } from '../harness.js'
import { PublishAdminToken, type PublishServerHello } from '../ipc.js'
import { median } from '../stats.js'
import { benchFanoutRedis } from './fanout.js'

/** Options of {@link benchPublish}. */
export interface PublishBenchOptions {
  /** Events per batched trial, in requests of {@link perRequest}. @default 200000 */
  readonly batchEvents?: number
  /** Events per batch request. @default 1000 */
  readonly perRequest?: number
  /** Events (one per request) per one-event trial. @default 5000 */
  readonly singleEvents?: number
  /** Requests in flight at once, as a producer with a small pool would keep. @default 4 */
  readonly inFlight?: number
  /** Measured trials of each server; one unmeasured trial of each warms both first. @default 3 */
  readonly rounds?: number
  /**
   * Events published through Redis to one client (and in memory, the baseline). Trials of a few
   * thousand last a fraction of a second, which start-up noise dominates. @default 30000
   */
  readonly redisEvents?: number
  /** Trials of the Redis comparison. @default 3 */
  readonly redisRounds?: number
}

type Kind = 'bare' | 'fates'
const Script: Readonly<Record<Kind, string>> = { bare: './children/publish-bare.js', fates: './children/publish-server.js' }
const Label: Readonly<Record<Kind, string>> = { bare: 'bare http + ws', fates: '@fates-rx/server' }

const [bot] = benchBots(1) as [{ id: string; token: string }]
const channel = `bot-${bot.id}`
const Separator = Protocol.separator.charCodeAt(0)

/** A vote without `m.eid` or `m.ts`, as a producer sends it: the server fills both in. */
const vote = (n: number): unknown => ({ m: { e: 0, t: -1 }, ctx: { user: '563808552288780322', votes: n, test: false } })

/** A client of `port` that identifies as the bench's bot and counts the events it receives. */
async function client(port: number): Promise<{ received: () => number; close: () => void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  let received = 0
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      let at = data.indexOf(Separator)
      // A control payload travels alone, without a separator: the identity, then ready.
      if (at === -1) {
        const text = data.toString('utf8')
        if (text.includes('"identity"')) ws.send(JSON.stringify({ id: bot.id, token: bot.token, bot: true }))
        else if (text.includes('"ready"')) resolve()
        return
      }
      // A frame of n events holds 2n - 1 separators (`E1\x1f\x1fE2\x1f`): counted, not parsed.
      let separators = 0
      while (at !== -1) {
        separators++
        at = data.indexOf(Separator, at + 1)
      }
      received += (separators + 1) / 2
    })
    ws.once('error', reject)
  })
  return { received: () => received, close: () => ws.terminate() }
}

/** Bodies of `events` events, `perRequest` each, serialized before any clock starts. */
function bodies(events: number, perRequest: number): string[] {
  const out: string[] = []
  for (let from = 0; from < events; from += perRequest) {
    const size = Math.min(perRequest, events - from)
    const batch = Array.from({ length: size }, (_, k) => ({ channel, event: vote(from + k) }))
    out.push(JSON.stringify(perRequest === 1 ? batch[0] : batch))
  }
  return out
}

/** Posts every body, `inFlight` at a time, until the client has received every event; events/s. */
async function trial(port: number, receiver: { received: () => number }, posts: readonly string[], events: number, inFlight: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/publish`
  const headers = { authorization: `Bearer ${PublishAdminToken}` }
  const before = receiver.received()
  const t0 = performance.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < posts.length) {
      const body = posts[next++] as string
      const response = await fetch(url, { method: 'POST', headers, body })
      if (response.status !== 200) throw new Error(`publish answered ${response.status}: ${await response.text()}`)
      await response.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  while (receiver.received() - before < events) await new Promise((resolve) => setImmediate(resolve))
  return events / ((performance.now() - t0) / 1000)
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** The publish section's rows: batch and one-event publishing against the bare server, and Redis to one client. */
export async function benchPublish(options: PublishBenchOptions = {}): Promise<Row[]> {
  const batchEvents = options.batchEvents ?? 200_000
  const perRequest = options.perRequest ?? 1000
  const singleEvents = options.singleEvents ?? 5_000
  const inFlight = options.inFlight ?? 4
  const rounds = options.rounds ?? 3
  const batched = bodies(batchEvents, perRequest)
  const singles = bodies(singleEvents, 1)
  const rates: Record<Kind, { batch: number[]; single: number[] }> = { bare: { batch: [], single: [] }, fates: { batch: [], single: [] } }
  const servers = { bare: await start<PublishServerHello>(Script.bare), fates: await start<PublishServerHello>(Script.fates) }
  const clients = { bare: await client(servers.bare.hello.port), fates: await client(servers.fates.hello.port) }
  try {
    for (let round = -1; round < rounds; round++) {
      // Alternate which goes first, so that neither always meets the other's leftovers.
      const order: Kind[] = round % 2 === 0 ? ['bare', 'fates'] : ['fates', 'bare']
      for (const kind of order) {
        const { port } = servers[kind].hello
        const what = `${Label[kind]} publish`
        const single = await within(trial(port, clients[kind], singles, singleEvents, inFlight), 120_000, what)
        const batch = await within(trial(port, clients[kind], batched, batchEvents, inFlight), 120_000, what)
        if (round < 0) continue
        rates[kind].single.push(single)
        rates[kind].batch.push(batch)
      }
    }
  } finally {
    for (const kind of ['bare', 'fates'] as const) {
      clients[kind].close()
      await stop(servers[kind].child)
    }
  }
  const paired = (pick: 'batch' | 'single'): number => round3(median(rates.fates[pick].map((rate, i) => rate / (rates.bare[pick][i] as number))))
  const params = { section: 'publish', clients: 1, inFlight, rounds, store: 'memory' }
  const batchRate = Math.round(median(rates.fates.batch))
  const singleRate = Math.round(median(rates.fates.single))
  const rows: Row[] = [
    {
      name: `publish: ${Label.fates}, batches of ${perRequest} over HTTP, accepted and delivered`,
      eventsPerSecond: batchRate,
      ratio: paired('batch'),
      baseline: `${Label.bare}: the same bodies parsed and broadcast`,
      params: { ...params, events: batchEvents, perRequest },
      metrics: {
        bareEventsPerSecond: Math.round(median(rates.bare.batch)),
        timesOneEventRequests: round3(batchRate / singleRate),
      },
      target: { text: '≥ 50,000 events/s (issue 20)', met: batchRate >= 50_000 },
    },
    {
      name: `publish: ${Label.fates}, one event per request, accepted and delivered`,
      eventsPerSecond: singleRate,
      ratio: paired('single'),
      baseline: `${Label.bare}: the same bodies parsed and broadcast`,
      params: { ...params, events: singleEvents, perRequest: 1 },
      metrics: { bareEventsPerSecond: Math.round(median(rates.bare.single)) },
      // No absolute target: one request per event is HTTP's cost, which the bare server shares.
      target: { text: '≥ 80% of the bare server (the same requests)', met: paired('single') >= 0.8 },
    },
  ]
  const redisEvents = options.redisEvents ?? 30_000
  const [redis] = await benchFanoutRedis({ cases: [{ clients: 1, events: redisEvents }], rounds: options.redisRounds ?? 3 })
  if (redis !== undefined) {
    rows.push({
      ...redis,
      params: { ...redis.params, section: 'publish' },
      // Issue 20 measured 47.5% of in memory (section fanout-redis, 500 events) before its work.
      target: { text: 'toward in memory: > 47.5% of it (issue 20’s before)', met: (redis.ratio ?? 0) > 0.475 },
    })
  }
  return rows
}
