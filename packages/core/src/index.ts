/**
 * `@fates-rx/core`: a browser-first, isomorphic RxJS client for the Fates List websocket.
 *
 * Only what an app meets is here, each name once, values as values and types by name:
 * `connect()` and its types, the pipeline's operators, typed events, event names, and the
 * protocol's tables a client decides by (`ClosePolicy`, `CloseCode`, `ControlCode`). The
 * rest has an entry of its own, named for what it holds:
 * - `@fates-rx/core/protocol`: the protocol as data and the codecs (the server imports it);
 * - `@fates-rx/core/sans-io`: the pure pieces `connect()` is made of (its state machine, the
 *   tabs' machine, the identify budget, backoff, option checks, per-segment decoding);
 * - `@fates-rx/core/socket`: the one effectful edge, a WebSocket as signals;
 * - `@fates-rx/core/testing`: test helpers for any runner.
 *
 * @packageDocumentation
 */

// The client.
export { connect, type FatesClient } from './client/connection/connect.js'
export { ConnectOptionsError, type ConnectOptions, type PerAttempt } from './client/options.js'
export { Transitions, type CloseDetails, type ConnectionState, type ConnectionStatus, type GapOutcome, type TabRole } from './client/connection/status.js'
export type { ConnectionMetrics } from './client/connection/metrics.js'
export type { SharedWorkerLike, TabChannel, TabLocks, TabSessionStore, TabsEnvironment, WorkerPortLike, WorkerSharing } from './client/tabs/tab-support.js'
export type { PersistStore } from './client/persist/persist-support.js'
export type { BackoffConfig } from './client/policies/backoff.js'
export type { WebSocketConstructor, WebSocketLike } from './socket/web-socket.js'

// The tables a client decides by.
export { ClosePolicy, type CloseAction, type ClosePolicyEntry } from './protocol/close-policy.js'
export { CloseCode, type KnownCloseCode } from './protocol/close.js'
export { ControlCode, type KnownControlCode } from './protocol/control.js'

// Event names.
export { EventName, eventLabel, type EventNameKey, type KnownEventNumber } from './protocol/events.js'

// What the streams carry. (These are also io-ts codecs, on `@fates-rx/core/protocol`.)
export type { ControlPayload, EventMeta, FatesEvent, ReceivedEvent, Snowflake } from './codec/codecs.js'
export type {
  ContextOf,
  InviteContext,
  ItemContext,
  OtherContext,
  ReviewContext,
  TransferContext,
  ViewContext,
  VoteContext,
} from './codec/contexts.js'
export type { Decoded, Diagnostic, DiagnosticKind } from './operators/diagnostic.js'

// The pipeline, and typed events.
export { splitFrames } from './operators/split-frames.js'
export { decodePayloads, type DecodePayloadsConfig, type EventCheck } from './operators/decode-payloads.js'
export { partitionPayloads, type PayloadStreams } from './operators/partition-payloads.js'
export { fromFrames } from './operators/from-frames.js'
export { dedupeEvents, type DedupeEventsConfig } from './operators/dedupe-events.js'
export { isEvent, ofEvent, type EventLike, type NarrowedEvent, type OfEventConfig, type TypedEvent } from './operators/of-event.js'
export { eventStats, NoEventStats, type EventStats, type EventStatsConfig, type LatestVote } from './operators/event-stats.js'
