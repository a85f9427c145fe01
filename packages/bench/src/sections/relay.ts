/**
 * The relay section (issue 14): events published at an origin and delivered to 1,000 viewers
 * through a relay (`@fates-rx/server` in relay mode: one upstream connection, then its own
 * fan-out), against the same server delivering to 1,000 clients directly, in alternating
 * trials of the same run. The ratio is what the extra hop costs the viewers' throughput.
 *
 * Processes per trial: direct, the server and the client processes (as the fanout section);
 * relayed, the origin, the relay and the client processes. The origin only feeds one upstream
 * connection, so the relay's fan-out is what is measured; the clients read only a sequence
 * number, as in the fanout section.
 *
 * @packageDocumentation
 */
import type { ChildProcess } from 'node:child_process'
import { start, stop, nextMessage, within } from '../child.js'
import { benchBots, RelayViewerToken } from '../fanout-shared.js'
import type { Row } from '../harness.js'
import type { ClientsHello, Connected, FanoutClientsReply, FanoutServerHello, Published, Received, RelayStats } from '../ipc.js'
import { median } from '../stats.js'
import { askClients, askServer } from './fanout.js'

/** Options of {@link benchRelay}. */
export interface RelayBenchOptions {
  /** Viewers (clients) in each trial. @default 1000 */
  readonly viewers?: number
  /** Events published per trial. @default 1000 */
  readonly events?: number
  /** Trials of each way per run. @default 3 */
  readonly rounds?: number
  /** Handshakes in flight at once, per client process. @default 50 */
  readonly concurrency?: number
  /** Processes the clients are spread over. @default 2 */
  readonly clientProcesses?: number
}

type Way = 'direct' | 'relay'

interface Trial {
  readonly eventsPerSecond: number
  readonly lost: number
  readonly duplicates: number
  readonly outOfOrder: number
  readonly timedOut: boolean
  /** Peak RSS of the process the viewers are connected to. */
  readonly peakRss: number
}

const Label: Readonly<Record<Way, string>> = {
  direct: '@fates-rx/server, direct',
  relay: '@fates-rx/server through a relay',
}

async function waitForUpstream(relay: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const stats = await askServer<RelayStats>(relay, { type: 'stats' }, 'stats')
    if (stats.upstream === 'live') return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the relay\'s upstream did not go live within 10 s')
}

async function trial(way: Way, viewers: number, events: number, concurrency: number, processes: number): Promise<Trial> {
  const started: ChildProcess[] = []
  const groups: ChildProcess[] = []
  try {
    // Direct: one bot per client (the per-id ratelimit); relayed: every viewer is the relayed
    // bot (a relay limits viewers per connection).
    const origin = await start<FanoutServerHello>('./children/fanout-server.js', [String(way === 'direct' ? viewers : 1)])
    started.push(origin.child)
    let url = origin.hello.url
    let served = origin.child
    let bots = benchBots(viewers)
    if (way === 'relay') {
      const relay = await start<FanoutServerHello>('./children/fanout-relay.js', [origin.hello.url])
      started.push(relay.child)
      url = relay.hello.url
      served = relay.child
      const [bot] = benchBots(1)
      bots = Array.from({ length: viewers }, () => ({ id: bot!.id, token: RelayViewerToken }))
    }
    const count = Math.max(1, Math.min(processes, viewers))
    for (let i = 0; i < count; i++) groups.push((await start<ClientsHello>('./children/fanout-clients.js')).child)
    const share = Math.ceil(viewers / count)
    const connected = await Promise.all(
      groups.map((child, i) => askClients<Connected>(child, { type: 'connect', url, bots: bots.slice(i * share, (i + 1) * share), concurrency }, 'connected')),
    )
    const failed = connected.find((c) => c.failures > 0)
    if (failed !== undefined) throw new Error(`${Label[way]}: ${failed.failures} clients failed to connect: ${failed.firstError}`)
    if (way === 'relay') await waitForUpstream(served)
    await Promise.all(groups.map((child) => askClients(child, { type: 'expect', count: events, timeoutMs: 60_000 }, 'expecting')))
    const received = Promise.all(groups.map((child) => nextMessage<FanoutClientsReply>(child, (m) => m.type === 'received') as Promise<Received>))
    const published = await askServer<Published>(origin.child, { type: 'publish', count: events }, 'published')
    const got = await received
    const stats = await askServer<RelayStats>(served, { type: 'stats' }, 'stats')
    await Promise.all(groups.map((child) => askClients(child, { type: 'close' }, 'closed')))
    const sum = (pick: (r: Received) => number): number => got.reduce((total, r) => total + pick(r), 0)
    const lastAt = Math.max(...got.map((r) => r.lastAt))
    return {
      eventsPerSecond: sum((r) => r.received) / ((lastAt - published.startAt) / 1e6),
      lost: viewers * events - sum((r) => r.received),
      duplicates: sum((r) => r.duplicates),
      outOfOrder: sum((r) => r.outOfOrder),
      timedOut: got.some((r) => r.timedOut),
      peakRss: stats.peakRss,
    }
  } finally {
    for (const child of groups) await stop(child)
    for (const child of started.reverse()) await stop(child)
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** The relay section's rows: direct fan-out (the baseline), then through a relay, with the ratio. */
export async function benchRelay(options: RelayBenchOptions = {}): Promise<Row[]> {
  const viewers = options.viewers ?? 1000
  const events = options.events ?? 1000
  const rounds = options.rounds ?? 3
  const concurrency = options.concurrency ?? 50
  const processes = options.clientProcesses ?? 2
  const trials: Record<Way, Trial[]> = { direct: [], relay: [] }
  for (let round = 0; round < rounds; round++) {
    const order: Way[] = round % 2 === 0 ? ['direct', 'relay'] : ['relay', 'direct']
    for (const way of order) trials[way].push(await within(trial(way, viewers, events, concurrency, processes), 180_000, `${Label[way]} to ${viewers} viewers`))
  }
  const params = { section: 'relay', viewers, eventsPublished: events, deliveries: viewers * events, channel: 'global', rounds, concurrency, clientProcesses: Math.min(processes, viewers) }
  const ratio = round3(median(trials.relay.map((t, i) => t.eventsPerSecond / (trials.direct[i] as Trial).eventsPerSecond)))
  return (['direct', 'relay'] as const).map((way) => {
    const ts = trials[way]
    const lost = ts.reduce((sum, t) => sum + t.lost, 0)
    const outOfOrder = ts.reduce((sum, t) => sum + t.outOfOrder, 0)
    const duplicates = ts.reduce((sum, t) => sum + t.duplicates, 0)
    return {
      name: `relay: ${Label[way]} → ${viewers} viewers`,
      eventsPerSecond: Math.round(median(ts.map((t) => t.eventsPerSecond))),
      ratio: way === 'direct' ? null : ratio,
      ...(way === 'direct' ? {} : { baseline: `relay: ${Label.direct} → ${viewers} viewers` }),
      params,
      metrics: {
        lost,
        duplicates,
        outOfOrder,
        timedOut: ts.some((t) => t.timedOut),
        peakRssMB: Math.round(Math.max(...ts.map((t) => t.peakRss)) / 2 ** 20),
        perTrial: ts.map((t) => Math.round(t.eventsPerSecond)),
      },
      ...(way === 'relay'
        ? { target: { text: '≥ 80% of direct fan-out, none lost, in order', met: ratio >= 0.8 && lost === 0 && outOfOrder === 0 && duplicates === 0 } }
        : {}),
    }
  })
}
