/**
 * `@fates-rx/core/protocol`: the protocol as data and its codecs, without RxJS or a socket.
 * The server imports this entry so that both sides share one definition of the wire.
 *
 * @packageDocumentation
 */
export * from './protocol/index.js'
export * from './codec/index.js'
