/**
 * `@fates-rx/core`: a browser-first, isomorphic RxJS client for the Fates List websocket.
 *
 * @packageDocumentation
 */
export * from './protocol/index.js'
export * from './codec/index.js'
export * from './operators/index.js'
export * from './operators/event-stats.js'
export * from './socket/index.js'
export * from './client/index.js'
