/**
 * `@fates-rx/core`: a browser-first, isomorphic RxJS client for the Fates List websocket.
 *
 * @packageDocumentation
 */
export * from './protocol/index.js'
export * from './codec/index.js'
export * from './operators/event-stats.js'
export * from './operators/of-event.js'
