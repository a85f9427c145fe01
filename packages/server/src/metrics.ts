import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { CloseCode, RelayCloseCode } from '@fates-rx/core/protocol'
import type { ProtocolObserver } from './protocol/config.js'
import type { ConnectionState } from './protocol/connection.js'
import type { FatesServer } from './protocol/make-server.js'
import type { Relay } from './relay/relay.js'
import { UpstreamStatuses } from './relay/machine.js'
import type { Store } from './stores/store.js'

/** How long `/metrics` and `/healthz` wait for the store to answer a ping (milliseconds). */
export const StorePingTimeoutMs = 1_000

/**
 * Close codes counted under their own label: the standard ones (1000–1015) and the protocol's.
 * The code of a client's close frame is the client's choice (any of 3000–4999): each other code
 * is counted as `other`, so that clients cannot add a series per code they send.
 */
const LabelledCloseCodes: ReadonlySet<number> = new Set([
  ...Array.from({ length: 16 }, (_, i) => 1000 + i),
  ...Object.values(CloseCode),
  ...Object.values(RelayCloseCode),
])

/** The `code` label of a close. */
export const closeCodeLabel = (code: number): string => (LabelledCloseCodes.has(code) ? String(code) : 'other')

/** Resolves to whether `store` answered a ping in time. */
export async function storeAnswers(store: Pick<Store, 'ping'>, timeoutMs = StorePingTimeoutMs): Promise<boolean> {
  if (store.ping === undefined) return true
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([store.ping().then(() => true as const), expired])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}

/** A server's metrics: the registry `/metrics` serves, and the observer that feeds it. */
export interface ServerMetrics {
  /** Holds every metric below, in the Prometheus text format on `metrics()`. */
  readonly registry: Registry
  /** Pass to the protocol logic (`ProtocolConfig.observer`). */
  readonly observer: ProtocolObserver
  /**
   * Connects the gauges read at scrape time: connections by state, whether the store is up,
   * and in relay mode each relayed target's upstream.
   */
  watch(server: FatesServer, store: Pick<Store, 'ping'>, relay?: Pick<Relay, 'upstreams'>): void
}

/**
 * Builds the metrics of one server in a registry of its own (several servers in one process
 * never share counters). Labels carry codes and states only: never a token, an ID or a URL.
 */
export function createMetrics(): ServerMetrics {
  const registry = new Registry()
  const identifies = new Counter({
    name: 'fates_identifies_total',
    help: 'Identifies by outcome: ready, or the control code they were refused with.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const closes = new Counter({
    name: 'fates_closes_total',
    help: 'Closed websocket connections by close code (a standard or the protocol\'s; "other" for any other code a client sent).',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  const published = new Counter({
    name: 'fates_events_published_total',
    help: 'Events stored and delivered by publish (repeats not included).',
    registers: [registry],
  })
  const repeats = new Counter({
    name: 'fates_events_repeated_total',
    help: 'Published events whose eid the history already held: neither stored nor delivered again.',
    registers: [registry],
  })
  const delivered = new Counter({
    name: 'fates_events_delivered_total',
    help: 'Events queued for connections, live or replayed (one per connection that gets it).',
    registers: [registry],
  })
  const replayed = new Counter({
    name: 'fates_events_replayed_total',
    help: 'Events replayed to connections by send_all or a resume (one per connection that gets it; also in fates_events_delivered_total).',
    registers: [registry],
  })
  const resumes = new Counter({
    name: 'fates_resumes_total',
    help: 'Channels resumed by clients that sent positions (after), by whether the replay was exact (only the events after the position).',
    labelNames: ['exact'] as const,
    registers: [registry],
  })
  const positionsIgnored = new Counter({
    name: 'fates_resume_positions_ignored_total',
    help: 'Positions a client sent that could not be used (another store life, beyond the newest, trimmed, or unpositioned history): the whole history was replayed.',
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'fates_publish_duration_seconds',
    help: 'Time to store and publish one publish request (a batch counts once).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
  const storeErrors = new Counter({
    name: 'fates_store_errors_total',
    help: 'Store failures met by a connection or a publish.',
    registers: [registry],
  })
  let watched: { server: FatesServer; store: Pick<Store, 'ping'>; relay?: Pick<Relay, 'upstreams'> | undefined } | undefined
  new Gauge({
    name: 'fates_connections',
    help: 'Open websocket connections by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (watched === undefined) return
      const states = watched.server.connectionStates()
      for (const state of Object.keys(states) as ConnectionState[]) this.set({ state }, states[state])
    },
  })
  new Gauge({
    name: 'fates_store_up',
    help: 'Whether the store (Redis, or memory) answered a ping at this scrape: 1 or 0.',
    registers: [registry],
    async collect() {
      if (watched !== undefined) this.set((await storeAnswers(watched.store)) ? 1 : 0)
    },
  })
  // Relay mode. The label is the relayed target's channel (`bot-<id>`): the one ID a label
  // carries, since a relay's operator needs to tell its targets apart; never a token or URL.
  new Gauge({
    name: 'fates_upstream_status',
    help: 'Relay mode: 1 for the status each relayed target\'s upstream connection is in (idle, connecting, live, failed), 0 for the others.',
    labelNames: ['target', 'status'] as const,
    registers: [registry],
    collect() {
      for (const upstream of watched?.relay?.upstreams() ?? []) {
        for (const status of UpstreamStatuses) this.set({ target: upstream.target, status }, upstream.status === status ? 1 : 0)
      }
    },
  })
  new Gauge({
    name: 'fates_upstream_viewers',
    help: 'Relay mode: viewers connected per relayed target.',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      for (const upstream of watched?.relay?.upstreams() ?? []) this.set({ target: upstream.target }, upstream.viewers)
    },
  })
  new Counter({
    name: 'fates_upstream_events_received_total',
    help: 'Relay mode: events received from each relayed target\'s upstream.',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const upstream of watched?.relay?.upstreams() ?? []) this.inc({ target: upstream.target }, upstream.events)
    },
  })
  new Counter({
    name: 'fates_upstream_connections_opened_total',
    help: 'Relay mode: upstream connections opened per relayed target (one per period with viewers; reconnects are core\'s and not counted).',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const upstream of watched?.relay?.upstreams() ?? []) this.inc({ target: upstream.target }, upstream.opened)
    },
  })
  new Counter({
    name: 'fates_upstream_retries_total',
    help: 'Relay mode: retries of a failed upstream per relayed target (by its backoff, SIGHUP or POST /admin/upstreams/retry).',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const upstream of watched?.relay?.upstreams() ?? []) this.inc({ target: upstream.target }, upstream.retries)
    },
  })
  new Counter({
    name: 'fates_upstream_events_refused_total',
    help: 'Relay mode: upstream events not relayed per relayed target (over the size limit, or on another identity\'s channel).',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      this.reset()
      for (const upstream of watched?.relay?.upstreams() ?? []) this.inc({ target: upstream.target }, upstream.refused)
    },
  })
  return {
    registry,
    observer: {
      identified: (outcome) => identifies.inc({ outcome }),
      closed: (code) => closes.inc({ code: closeCodeLabel(code) }),
      delivered: (count) => delivered.inc(count),
      published(stored, repeated, seconds) {
        if (stored > 0) published.inc(stored)
        if (repeated > 0) repeats.inc(repeated)
        latency.observe(seconds)
      },
      storeFailed: () => storeErrors.inc(),
      replayed: (count) => replayed.inc(count),
      resumed(outcome) {
        const exact = outcome === 'exact'
        resumes.inc({ exact: String(exact) })
        // 'none': the client sent no position for this channel, so none was ignored.
        if (!exact && outcome !== 'none') positionsIgnored.inc()
      },
    },
    watch(server, store, relay) {
      watched = { server, store, relay }
    },
  }
}
