/**
 * `@fates-rx/core/socket`: the one effectful edge of the client, a WebSocket (the runtime's,
 * `ws` in Node through isomorphic-ws, or one you pass) as open / frame / close signals, the
 * close saying why when the runtime knows. Drive `@fates-rx/core/sans-io`'s machine with it.
 *
 * @packageDocumentation
 */
export * from './socket/index.js'
