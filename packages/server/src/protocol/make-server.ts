import { CloseCode } from '@fates-rx/core/protocol'
import type { PublishError } from '../publish.js'
import { describe } from '../log.js'
import type { ProtocolConfig } from './config.js'
import { Connection, type ConnectionContext, type ConnectionState } from './connection.js'
import { ChannelFanOut } from './fan-out.js'
import { FlushScheduler } from './flush-scheduler.js'
import { groupCommit, publishEvents, type PublishOptions, type PublishOutcome, type PublishRequest } from './publish-events.js'
import type { PeerInfo, ProtocolSocket, SocketHandlers } from './socket.js'
import { NodeTimers, type TimerHandle } from './timers.js'

/** The protocol logic of a server, independent of any websocket library. */
export interface FatesServer {
  /** Starts the protocol on a freshly opened socket; the adapter reports its events back. */
  opened(socket: ProtocolSocket, peer: PeerInfo): SocketHandlers
  /**
   * Stores and delivers an event, like the original's producer: `m.eid` and `m.ts` are filled
   * in when missing. Resolves to the event ID; rejects with {@link PublishError} for a bad
   * channel or event.
   */
  publish(channel: string, event: unknown): Promise<string>
  /**
   * Stores and delivers several events, in order: all are checked first, and one bad event
   * refuses the whole batch with a {@link PublishError} naming its index. Resolves to each
   * event's eid and whether it was a repeat (an eid the history already held: neither stored
   * nor delivered again). `options` may relax the checks (a relay's upstream events).
   */
  publishMany(requests: readonly PublishRequest[], options?: PublishOptions): Promise<PublishOutcome[]>
  /** Closes every connection with `code` (1001 by default) and resolves once all are closed. */
  closeAll(code?: number, graceMs?: number): Promise<void>
  /** Open connections. */
  readonly connections: number
  /** Open connections by state. */
  connectionStates(): Record<ConnectionState, number>
}

/**
 * Builds the protocol logic (handshake, ratelimits, replay, live fan-out and the batching
 * writer) over {@link ProtocolSocket}s. It wires the parts together: the store, one channel
 * fan-out and one flush scheduler shared by every connection, and publishing through the store.
 */
export function makeServer(config: ProtocolConfig): FatesServer {
  const { store, logger } = config
  const observer = config.observer ?? {}
  const timers = config.timers ?? NodeTimers
  const connections = new Set<Connection>()
  let nextConnection = 1
  const context: ConnectionContext = {
    config,
    observer,
    timers,
    fanOut: new ChannelFanOut(store, logger),
    flushSoon: new FlushScheduler(timers).soon,
    forget: (connection) => connections.delete(connection),
  }

  store.onInterrupted?.((error) => {
    logger.error(`${describe(error)}: closing identified connections with 4500 so that clients reconnect`)
    for (const connection of connections) connection.interrupt()
  })

  // One store call at a time, the publishes made meanwhile grouped into the next.
  const storeMany = store.publishMany === undefined ? undefined : groupCommit(store.publishMany.bind(store))
  const publishMany = (requests: readonly PublishRequest[], options?: PublishOptions): Promise<PublishOutcome[]> =>
    publishEvents(store, observer, config.now, requests, options, storeMany)

  return {
    opened(socket, peer) {
      const connection = new Connection(context, socket, peer, `#${nextConnection++}`)
      connections.add(connection)
      return connection
    },
    async publish(channel, event) {
      const [outcome] = await publishMany([{ channel, event }])
      return outcome!.eid
    },
    publishMany,
    async closeAll(code = CloseCode.GoingAway, graceMs = 2_000) {
      const open = [...connections]
      for (const c of open) c.shutdown(code)
      let grace: TimerHandle | undefined
      const expired = new Promise<void>((resolve) => {
        grace = timers.after(graceMs, resolve)
      })
      const closed = Promise.all(open.map((c) => c.done)).then(() => 'closed' as const)
      const outcome = await Promise.race([closed, expired.then(() => 'expired' as const)])
      grace?.cancel()
      if (outcome === 'expired') {
        for (const c of open) c.terminate()
        await closed
      }
    },
    get connections() {
      return connections.size
    },
    connectionStates() {
      const counts: Record<ConnectionState, number> = { waiting: 0, identifying: 0, ready: 0, closing: 0 }
      for (const connection of connections) {
        const state = connection.state
        if (state !== 'closed') counts[state]++
      }
      return counts
    },
  }
}
