// The test kit: builders of wire payloads, fake and scripted WebSockets, a client double, tabs in memory, a
// virtual clock, and every ctx shape the original's producers sent. Nothing here imports a test runner.
export * from './builders.js'
export * from './fake-web-socket.js'
export * from './scripted-web-socket.js'
export * from './fake-client.js'
export * from './virtual-clock.js'
export * from './memory-tabs.js'
export * from './producer-contexts.js'
