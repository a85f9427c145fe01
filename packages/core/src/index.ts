/**
 * `@fates-rx/core`: a browser-first, isomorphic RxJS client for the Fates List websocket.
 *
 * The values here are what the README documents: `connect()`, the pipeline's operators,
 * typed events, event names and the two tables the client decides by. Every type of the
 * package is here too. The protocol's other tables and its codecs are on
 * `@fates-rx/core/protocol`; the pure pieces `connect()` is built from (identify budget,
 * backoff, option checks, the socket edge, per-segment decoding) on
 * `@fates-rx/core/building-blocks`; test helpers on `@fates-rx/core/testing`.
 *
 * @packageDocumentation
 */

// Every type, values excluded: a type costs nothing at run time and users meet them all.
export type * from './protocol/index.js'
export type * from './codec/index.js'
export type * from './operators/index.js'
export type * from './operators/event-stats.js'
export type * from './socket/index.js'
export type * from './client/index.js'

// The client.
export { connect } from './client/connect.js'
export { ConnectOptionsError } from './client/options.js'
export { Transitions } from './client/status.js'
export { ClosePolicy } from './protocol/close-policy.js'

// Event names.
export { EventName, eventLabel } from './protocol/events.js'

// The pipeline, and typed events.
export { splitFrames } from './operators/split-frames.js'
export { decodePayloads } from './operators/decode-payloads.js'
export { partitionPayloads } from './operators/partition-payloads.js'
export { fromFrames } from './operators/from-frames.js'
export { dedupeEvents } from './operators/dedupe-events.js'
export { isEvent, ofEvent } from './operators/of-event.js'
export { eventStats, NoEventStats } from './operators/event-stats.js'
