// The effectful edge: a WebSocket as signals.
export * from './web-socket.js'
