import type { Subscription } from 'rxjs'
import { connect, type FatesClient } from '../connection/connect.js'
import { parseRecord, recordText } from '../persist/persist.js'
import { mergeLedgers } from '../persist/persist-machine.js'
import { type HubEffect, type HubInput, type HubMessage, hubStep, initialHubState } from './hub-machine.js'
import { ConnectDefaults, ConnectOptionsError, type ConnectOptions } from '../options.js'
import type { PersistStore } from '../persist/persist-support.js'
import { serially } from '../serially.js'
import { feedItems } from './tab-streams.js'
import type { TabItem } from './tabs-machine.js'
import type { TabLocks, WorkerPortLike } from './tab-support.js'

// The SharedWorker's side: hub-machine.ts decides, this performs. Each port is a tab; each
// target's upstream is an ordinary connect() client inside the worker (so the worker runs the
// same machine, ratelimit budget and resume as a tab would), fed back to the machine as
// `upstream` inputs. The token arrives in a port's join message and stays in the worker's memory.

/** How a hub is made; every field is for tests and other runtimes. */
export interface HubOptions {
  /** The Web Locks the hub learns that a tab is gone by. Default: `navigator.locks`, when there is one. */
  readonly locks?: TabLocks
  /** Options added to every upstream's (tests pass `WebSocket`, a `scheduler`, short timeouts). */
  readonly connect?: Partial<ConnectOptions>
  /** How many events a target remembers for tabs that rejoin. Default: `HubRecentEvents` (1000). */
  readonly recent?: number
}

/** A running hub: give it each port a tab connects with. */
export interface Hub {
  /** Serves a tab's port (the `connect` event's `ports[0]` in a SharedWorker). */
  connect(port: WorkerPortLike): void
}

/**
 * Makes a hub: ports of one target share one upstream connection, opened by the first port's
 * join and closed when the last one leaves. {@link startHub} is the SharedWorker's way to run one.
 */
export function createHub(options: HubOptions = {}): Hub {
  const locks = options.locks ?? (globalThis as { navigator?: { locks?: TabLocks } }).navigator?.locks
  // Held while this hub lives; each tab waits for it, and is granted it once the worker has
  // stopped (crashed, or closed by the browser): then it joins a new worker.
  const lock = `fates-rx:hub:${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`
  // Ports are served only once the hub holds it: a welcome names the lock, and a tab that asked
  // for it before the hub's own request reached the browser's lock manager (another process,
  // another pipe: measured in Chromium at a worker's start) would be granted it at once, take
  // the live worker for a dead one, and leave and join again, costing a second identify.
  let waiting: WorkerPortLike[] | undefined = locks === undefined ? undefined : []
  let held = false
  const serveWaiting = (): void => {
    // Stryker disable next-line ArrayDeclaration: equivalent: `waiting` is a list whenever this runs (once: the lock's grant or its refusal).
    const ports = waiting ?? []
    waiting = undefined
    for (const port of ports) serve(port)
  }
  locks
    ?.request(lock, {}, () => {
      held = true
      serveWaiting()
      return new Promise<void>(() => undefined)
    })
    // Refused (no lock manager after all): serve without one; tabs then learn of a stopped worker only by its error.
    .catch(() => serveWaiting())
  let state = initialHubState
  let ports = 0
  const open = new Map<string, WorkerPortLike>()
  const upstreams = new Map<number, { readonly client: FatesClient; readonly subscriptions: Subscription[] }>()
  // Each target's last record write, for the identify ledger in it: an upstream opened for a tab
  // that keeps no record (no `persist`) starts from the ledger of the one before it, so that
  // tabs joining and leaving again and again do not identify past the ratelimit (4012).
  const spent = new Map<string, string>()
  // What the upstream emits is batched per task and port: a frame of fifty events is one message.
  const batches = new Map<string, TabItem[]>()

  const { dispatch } = serially<HubInput>((input) => {
    const result = hubStep(state, input, options.recent)
    state = result.state
    for (const effect of result.effects) perform(effect)
  })

  const send = (port: string, message: HubMessage): void => {
    if (message.type !== 'out') {
      flush(port)
      // Stryker disable next-line OptionalChaining: equivalent: every port the machine names has joined, and a join holds it (a port is forgotten only once the machine has let it go).
      return open.get(port)?.postMessage(message.type === 'welcome' && held ? { ...message, lock } : message)
    }
    let batch = batches.get(port)
    if (batch === undefined) {
      batch = []
      batches.set(port, batch)
      queueMicrotask(() => flush(port))
    }
    batch.push(...message.items)
  }
  const flush = (port: string): void => {
    const items = batches.get(port)
    if (items === undefined) return
    batches.delete(port)
    // Stryker disable next-line OptionalChaining: as in send().
    open.get(port)?.postMessage({ type: 'out', items } satisfies HubMessage)
  }

  const perform = (effect: HubEffect): void => {
    switch (effect.type) {
      case 'open': {
        const { name, upstream, join } = effect
        const feed = (item: TabItem): void => dispatch({ type: 'upstream', name, upstream, item })
        // The upstream persists into this memory store: seeded with the joining tab's record
        // (the identify ledger) and its mark (where its events stopped: the first connection
        // fills the gap since). A tab that persists gets every write back, for its storage.
        // Without a record, the ledger is the target's last upstream's, its mark not: a tab
        // that keeps none starts afresh, as connect() does.
        // With both, the two ledgers merged as persist merges a page's with a stored one
        // (whichever spent more wins): a record kept by a tab that was away lacks what tabs
        // keeping none spent meanwhile.
        const own = parseRecord(join.record)
        const last = parseRecord(spent.get(name))?.ledger
        const given = { ...(join.options as unknown as ConnectOptions), ...options.connect }
        const window = { windowMs: given.rateWindowMs ?? ConnectDefaults.rateWindowMs, minSpacingMs: given.minIdentifySpacingMs ?? ConnectDefaults.minIdentifySpacingMs }
        const ledger = own === undefined ? (last ?? {}) : last === undefined ? own.ledger : mergeLedgers(last, own.ledger, Date.now(), window)
        const seeded = { ...own, ledger }
        let text = recordText(join.from === undefined ? seeded : { ...seeded, mark: join.from })
        const store: PersistStore = {
          getItem: () => text,
          setItem: (key, value) => {
            text = value
            spent.set(name, value)
            if (join.record !== undefined) dispatch({ type: 'stored', name, upstream, key, text: value })
          },
        }
        let client: FatesClient
        try {
          client = connect({ ...given, persist: store })
        } catch (error) {
          // Options connect() refuses (a tab of another version): its ports hear why, and the
          // worker serves on. The error never quotes the token (ConnectOptionsError's rule).
          const detail = error instanceof ConnectOptionsError ? error.message : 'The connection options could not be used.'
          feed(['status', { state: 'failed', since: Date.now(), detail }])
          return
        }
        const subscriptions: Subscription[] = []
        upstreams.set(upstream, { client, subscriptions })
        subscriptions.push(...feedItems(client, feed))
        return
      }
      case 'close': {
        const closing = upstreams.get(effect.upstream)
        upstreams.delete(effect.upstream)
        // The last subscription leaving closes the socket (1000).
        // Stryker disable next-line OptionalChaining,ArrayDeclaration: equivalent: the machine closes only an upstream it opened, once.
        for (const subscription of closing?.subscriptions ?? []) subscription.unsubscribe()
        return
      }
      case 'reconnect':
        // Stryker disable next-line OptionalChaining: as for `close`: the machine names only an open upstream.
        return upstreams.get(effect.upstream)?.client.reconnect()
      case 'post':
        for (const port of effect.ports) send(port, effect.message)
        return
      case 'watch': {
        const { port, lock } = effect
        // Granted only once the tab that holds it is gone (closed, reloaded, crashed), or has
        // let it go (a leave, pagehide). The port is let go too: a worker outlives every reload
        // of its tabs. Only its own handler still holds it, which serves it again should it
        // join again (a page restored from the back-forward cache, a reconnect after close()).
        locks?.request(lock, {}, () => {
          dispatch({ type: 'gone', port, lock })
          // Unless the port joined again meanwhile (under a new lock: the machine kept it).
          if (state.ports[port] === undefined) open.delete(port)
          return Promise.resolve()
        }).catch(() => undefined)
        return
      }
    }
  }

  const serve = (port: WorkerPortLike): void => {
    // Stryker disable next-line AssignmentOperator: equivalent: counting down names every port apart as well.
    const id = String((ports += 1))
    open.set(id, port)
    port.onmessage = (event) => {
      // A join is answered on this port: held again if a gone tab's lock had let it go. (Only
      // a join: a leave may arrive after the lock that follows it.)
      if ((event.data as { type?: unknown } | null)?.type === 'join') open.set(id, port)
      dispatch({ type: 'message', port: id, data: event.data })
    }
    port.start?.()
  }

  return {
    connect(port) {
      // A port not started yet holds its messages until it is.
      if (waiting !== undefined) waiting.push(port)
      else serve(port)
    },
  }
}

/**
 * Runs a hub in this SharedWorker: call it from the worker script an app serves (see the
 * README's recipe). Every tab whose `shareAcrossTabs.worker` is this script then shares its
 * target's connection through it.
 *
 * @example
 * // fates-worker.ts
 * import { startHub } from '@fates-rx/core/worker'
 * startHub()
 */
export function startHub(options: HubOptions = {}): Hub {
  const hub = createHub(options)
  const scope = globalThis as unknown as { onconnect: ((event: { readonly ports: readonly WorkerPortLike[] }) => void) | null }
  scope.onconnect = (event) => {
    for (const port of event.ports) hub.connect(port)
  }
  return hub
}
