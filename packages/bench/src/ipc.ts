/**
 * The messages between `pnpm bench` and its child processes, typed once: each section and
 * the child it starts import their messages from here, so the two sides cannot drift apart.
 * Every child sends a first message once it is ready (`start()` in child.ts waits for it).
 *
 * @packageDocumentation
 */
import type { MemoryStats } from './fanout-shared.js'

/** children/e2e-sender.ts → section e2e, once listening: its port and what its corpus holds. */
export interface SenderHello {
  readonly port: number
  readonly payloads: number
  readonly controls: number
  readonly repeats: number
  readonly frames: number
}

/** children/memory-child.ts → section memory, its only message: heap used after GC, and counts. */
export interface MemoryReport {
  readonly before: number
  readonly midway: number
  readonly after: number
  readonly seconds: number
  readonly delivered: number
  readonly pushed: number
}

/** A fan-out server (children/fanout-server.ts or fanout-bare.ts) → section fanout, once listening. */
export interface FanoutServerHello {
  readonly url: string
}

/** Section fanout → a fan-out server. */
export type FanoutServerCommand =
  /** Publish `count` events on `global`, then answer {@link Published}. */
  | { readonly type: 'publish'; readonly count: number }
  /** Answer {@link ServerStats}. */
  | { readonly type: 'stats' }

/** A fan-out server → section fanout: every event was handed over, between these instants (µs). */
export interface Published {
  readonly type: 'published'
  readonly startAt: number
  readonly endAt: number
}

/** A fan-out server → section fanout: its memory now and its peak. */
export interface ServerStats extends MemoryStats {
  readonly type: 'stats'
}

/** What a fan-out server answers. */
export type FanoutServerReply = Published | ServerStats

/** The relay section's relay process's answer to `stats`: memory, and its upstream's status. */
export interface RelayStats extends MemoryStats {
  readonly type: 'stats'
  /** `idle`, `connecting`, `live` or `failed` (the server's `UpstreamStatus`). */
  readonly upstream: string
}

/** Credentials of one bot, as the fan-out clients identify. */
export interface Bot {
  readonly id: string
  readonly token: string
}

/** Section fanout → children/fanout-clients.ts. */
export type FanoutClientsCommand =
  /** Open one client per bot, `concurrency` handshakes at a time; answer {@link Connected}. */
  | { readonly type: 'connect'; readonly url: string; readonly bots: readonly Bot[]; readonly concurrency: number }
  /** Count the next `count` events; answer {@link Expecting} now and {@link Received} when done or timed out. */
  | { readonly type: 'expect'; readonly count: number; readonly timeoutMs: number }
  /** Drop every client; answer {@link Closed}. */
  | { readonly type: 'close' }

/** Fan-out clients → section fanout, first: ready for commands. */
export interface ClientsHello {
  readonly type: 'hello'
}

/** Fan-out clients → section fanout: the handshakes are done (instants in µs). */
export interface Connected {
  readonly type: 'connected'
  readonly clients: number
  readonly failures: number
  readonly firstError: string
  readonly seconds: number
  readonly startAt: number
  readonly endAt: number
}

/** Fan-out clients → section fanout: counting has started. */
export interface Expecting {
  readonly type: 'expecting'
}

/** Fan-out clients → section fanout: what every client received, summed. */
export interface Received {
  readonly type: 'received'
  readonly timedOut: boolean
  readonly received: number
  readonly duplicates: number
  readonly outOfOrder: number
  readonly clientsOutOfOrder: number
  readonly lastAt: number
}

/** Fan-out clients → section fanout: every client is gone. */
export interface Closed {
  readonly type: 'closed'
}

/** What the fan-out clients answer. */
export type FanoutClientsReply = ClientsHello | Connected | Expecting | Received | Closed

/** The admin token of section publish's server (a bench secret, never a real one). */
export const PublishAdminToken = 'bench-admin-token'

/** children/publish-server.ts or publish-bare.ts → section publish, once listening. */
export interface PublishServerHello {
  /** HTTP `POST /publish` and the websocket (`/ws`) on 127.0.0.1. */
  readonly port: number
}
