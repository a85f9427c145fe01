import type { ReceivedEvent } from '../../codec/index.js'
import type { ConnectionMetrics } from '../connection/metrics.js'
import type { ConnectionStatus } from '../connection/status.js'
import { again, type Coverage, covering, fillAfter, fillOutcome, isMark, NoCoverage, RecentEvents, resuming, type TabItem, trimmed } from './tabs-machine.js'
import type { Watermark } from '../connection/watermark.js'

// The SharedWorker's hub as a pure state machine, as machine.ts is the connection's and
// tabs-machine.ts the tabs' election: tabs are ports; ports of one target (the token-free
// digest of its url, kind, id, token and flags) share one upstream connection, opened when the
// first joins and closed when the last leaves; what that connection emits is fanned out to
// every port of its target. `hubStep(state, input)` decides and performs nothing; hub.ts
// performs the effects (the MessagePorts, the upstream clients).

/**
 * What a tab sends its port's hub when it joins a target. `options` are the connection's
 * options as plain data (the token among them: a port is one tab's private line to the worker,
 * never a broadcast); `from` the newest event the tab delivered (a reload's resume mark);
 * `record` the persisted record's text, if the tab persists; `lock` a Web Lock the tab holds
 * while it lives (the hub learns that a tab is gone when it is granted it).
 */
export interface HubJoin {
  readonly type: 'join'
  readonly name: string
  readonly options: Readonly<Record<string, unknown>>
  readonly from?: Watermark
  readonly record?: string
  readonly lock?: string
}

/** What a tab sends its port. */
export type PortMessage = HubJoin | { readonly type: 'leave' } | { readonly type: 'reconnect' }

/**
 * What the hub sends a port: `welcome` answers a join (the target's status, and the events
 * the tab missed since its `from`, as far as the hub remembers), `out` is what the upstream
 * emitted (batched), `store` a persisted record to keep in the tab's store.
 */
export type HubMessage =
  /** `lock`: added by the interpreter, the Web Lock the worker holds while it lives. */
  | { readonly type: 'welcome'; readonly status?: ConnectionStatus; readonly history: readonly ReceivedEvent[]; readonly lock?: string }
  | { readonly type: 'out'; readonly items: readonly TabItem[] }
  | { readonly type: 'store'; readonly key: string; readonly text: string }

/** One target: its upstream connection and the ports it serves. */
export interface HubTarget {
  /** The upstream connection's id: emissions of a connection already closed are ignored. */
  readonly upstream: number
  /** The ports joined, in order of joining. */
  readonly ports: readonly string[]
  /** The upstream's last status, without the tabs' view (`undefined` until it emits one). */
  readonly status: ConnectionStatus | undefined
  /** The newest events delivered, oldest first, at most `recent`: what a reloading tab missed. */
  readonly recent: readonly ReceivedEvent[]
  /** How far back `recent` reaches unbroken, for a rejoining tab's fill (see `fillOutcome`). */
  readonly coverage: Coverage
  /**
   * The upstream's last counts: a client publishes them only after a frame, and a port joining
   * a quiet connection would show zeros until the next one.
   */
  readonly metrics?: ConnectionMetrics | undefined
}

/** Everything the hub knows, in one immutable value. */
export interface HubState {
  /** Each joined port's target name. */
  readonly ports: Readonly<Record<string, string>>
  /** The Web Lock each joined port's tab holds for its current join, where it gave one. */
  readonly watched: Readonly<Record<string, string>>
  readonly targets: Readonly<Record<string, HubTarget>>
  /** The last upstream id given. */
  readonly upstreams: number
}

/** What happens to the hub. */
export type HubInput =
  /** Anything a port posted, unchecked. */
  | { readonly type: 'message'; readonly port: string; readonly data: unknown }
  /**
   * The port's tab let go of the lock `lock` (it is gone, or left): ends the port's join if that
   * is still the join the lock was held for. A tab that left and joined again at once holds a
   * new lock, and the old one's grant must not end the new join.
   */
  | { readonly type: 'gone'; readonly port: string; readonly lock: string }
  /** An upstream connection emitted. */
  | { readonly type: 'upstream'; readonly name: string; readonly upstream: number; readonly item: TabItem }
  /** An upstream connection's persisted record changed. */
  | { readonly type: 'stored'; readonly name: string; readonly upstream: number; readonly key: string; readonly text: string }

/** What the interpreter must do, in order. */
export type HubEffect =
  /** Open the upstream connection of `name` with the join's options, resuming after `from`, its store seeded with `record`. */
  | { readonly type: 'open'; readonly name: string; readonly upstream: number; readonly join: HubJoin }
  /** Close (unsubscribe from) the upstream connection `upstream`. */
  | { readonly type: 'close'; readonly upstream: number }
  | { readonly type: 'reconnect'; readonly upstream: number }
  /** Post to each port (an `out` item is batched with the others of this task). */
  | { readonly type: 'post'; readonly ports: readonly string[]; readonly message: HubMessage }
  /** Watch the port's tab: answer `gone` when the lock `lock` is granted. */
  | { readonly type: 'watch'; readonly port: string; readonly lock: string }

/** What one step returns. */
export interface HubStep {
  readonly state: HubState
  readonly effects: readonly HubEffect[]
}

/** How many events a target remembers for tabs that rejoin after a reload. */
export const HubRecentEvents = RecentEvents

/** A hub before any port joined. */
export const initialHubState: HubState = Object.freeze({ ports: Object.freeze({}), watched: Object.freeze({}), targets: Object.freeze({}), upstreams: 0 })

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null

/** The message, if `data` is one a tab of this version posts; anything else is ignored. */
export function portMessage(data: unknown): PortMessage | undefined {
  if (!isObject(data)) return undefined
  switch (data['type']) {
    case 'join':
      return typeof data['name'] === 'string' && isObject(data['options']) && (data['from'] === undefined || isMark(data['from'])) ? (data as unknown as HubJoin) : undefined
    case 'leave':
    case 'reconnect':
      return data as PortMessage
    default:
      return undefined
  }
}

/** The status a port shows: the upstream's, with the worker's part and the ports it serves. */
export const hubStatus = (status: ConnectionStatus, count: number): ConnectionStatus => ({ ...status, tabs: { role: 'worker', count } })

/** A record's own value at `key`: a name such as `constructor` (a target's) or `__proto__` (a port's) is not Object.prototype's. */
const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined)

const without = <T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> => {
  const rest = { ...record }
  delete rest[key]
  return rest
}

/** The next state of the hub and what to do. Pure: no port, connection or clock. */
export function hubStep(state: HubState, input: HubInput, recent: number = HubRecentEvents): HubStep {
  const effects: HubEffect[] = []
  let next = state

  /** Tell every port of a target its status, with the count of ports (which just changed). */
  const recount = (target: HubTarget): void => {
    if (target.status !== undefined && target.ports.length > 0) {
      effects.push({ type: 'post', ports: target.ports, message: { type: 'out', items: [['status', hubStatus(again(target.status), target.ports.length)]] } })
    }
  }

  const leave = (port: string): void => {
    const name = own(next.ports, port)
    if (name === undefined) return
    const target = own(next.targets, name)
    next = { ...next, ports: without(next.ports, port), watched: without(next.watched, port) }
    if (target === undefined) return
    const ports = target.ports.filter((p) => p !== port)
    if (ports.length === 0) {
      next = { ...next, targets: without(next.targets, name) }
      effects.push({ type: 'close', upstream: target.upstream })
      return
    }
    const kept = { ...target, ports }
    next = { ...next, targets: { ...next.targets, [name]: kept } }
    recount(kept)
  }

  const join = (port: string, message: HubJoin): void => {
    if (next.ports[port] !== undefined) leave(port)
    const name = message.name
    let target = own(next.targets, name)
    if (target === undefined) {
      const upstream = next.upstreams + 1
      target = { upstream, ports: [port], status: undefined, recent: [], coverage: resuming(NoCoverage, message.from) }
      next = { ...next, upstreams: upstream }
      effects.push({ type: 'open', name, upstream, join: message })
    } else {
      target = { ...target, ports: [...target.ports, port] }
    }
    next = { ...next, ports: { ...next.ports, [port]: name }, targets: { ...next.targets, [name]: target } }
    if (message.lock !== undefined) {
      next = { ...next, watched: { ...next.watched, [port]: message.lock } }
      effects.push({ type: 'watch', port, lock: message.lock })
    }
    // What the tab missed while it was away (a reload): the remembered events after its mark.
    // A new tab (no mark) of a `sendAll` target gets all it remembers, as they came (the prior
    // ones `prior`): what its own identify would have replayed, as a leader tab gives a follower.
    const from = message.from
    const history =
      from !== undefined
        ? fillAfter(target.recent, from)
        : message.options['sendAll'] === true
          ? target.recent
          : []
    const status = target.status === undefined ? undefined : hubStatus(again(target.status), target.ports.length)
    // A rejoining tab hears whether that fill is whole, as a reconnect says of its gap.
    const shown = status === undefined || from === undefined ? status : { ...status, gap: fillOutcome(from, target.recent, target.coverage) }
    effects.push({ type: 'post', ports: [port], message: shown === undefined ? { type: 'welcome', history } : { type: 'welcome', status: shown, history } })
    // The counts so far, as a batch after the welcome: what the port's tab would have seen had it been there.
    if (target.metrics !== undefined) effects.push({ type: 'post', ports: [port], message: { type: 'out', items: [['metrics', target.metrics]] } })
    // The others learn the new count.
    if (target.status !== undefined) {
      const others = target.ports.filter((p) => p !== port)
      if (others.length > 0) effects.push({ type: 'post', ports: others, message: { type: 'out', items: [['status', status as ConnectionStatus]] } })
    }
  }

  switch (input.type) {
    case 'message': {
      const message = portMessage(input.data)
      if (message === undefined) break
      if (message.type === 'join') join(input.port, message)
      else if (message.type === 'leave') leave(input.port)
      else {
        const name = own(next.ports, input.port)
        const target = name === undefined ? undefined : own(next.targets, name)
        if (target !== undefined) effects.push({ type: 'reconnect', upstream: target.upstream })
      }
      break
    }
    case 'gone':
      if (next.watched[input.port] === input.lock) leave(input.port)
      break
    case 'upstream': {
      const target = own(next.targets, input.name)
      if (target === undefined || target.upstream !== input.upstream) break
      const item = input.item
      let out: TabItem = item
      let recentEvents = target.recent
      let coverage = target.coverage
      if (item[0] === 'status') out = ['status', hubStatus(item[1], target.ports.length)]
      else if (item[0] === 'event') {
        const kept = [...recentEvents, item[1]]
        if (kept.length > recent) coverage = trimmed(coverage, kept.splice(0, kept.length - recent))
        recentEvents = kept
      }
      coverage = covering(coverage, item, recentEvents.length)
      next = { ...next, targets: { ...next.targets, [input.name]: { ...target, recent: recentEvents, coverage, status: item[0] === 'status' ? item[1] : target.status, metrics: item[0] === 'metrics' ? item[1] : target.metrics } } }
      effects.push({ type: 'post', ports: target.ports, message: { type: 'out', items: [out] } })
      break
    }
    case 'stored': {
      const target = own(next.targets, input.name)
      if (target === undefined || target.upstream !== input.upstream) break
      effects.push({ type: 'post', ports: target.ports, message: { type: 'store', key: input.key, text: input.text } })
      break
    }
  }
  return { state: next, effects }
}
