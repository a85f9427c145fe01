/**
 * `@fates-rx/server`: a Fates List websocket server faithful to the original, for development,
 * tests and demos. The public surface only; no logic lives here.
 *
 * @packageDocumentation
 */
export { startServer, type RunningServer } from './start.js'
export { ServerDefaults, type ServerOptions } from './options.js'
export {
  makeServer,
  ServerDetail,
  type ConnectionState,
  type FatesServer,
  type ProtocolConfig,
  type ProtocolObserver,
  type PublishOutcome,
  type PublishRequest,
} from './server.js'
export type { PeerInfo, ProtocolSocket, SocketHandlers } from './socket.js'
export { useServer, bindWebSocket } from './use/ws.js'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js'
export { RedisStore, RedisKeys, redactUrl, type RedisStoreOptions } from './stores/redis.js'
export { PostgresTokens, type PostgresTokensOptions } from './stores/postgres.js'
export {
  MemoryTokens,
  StoreOutcomeUnknown,
  type EventToStore,
  type TokenLookup,
  channelOf,
  rateKey,
  GlobalChannel,
  type Credentials,
  type EventListener,
  type EventsById,
  type Store,
  type Unsubscribe,
} from './stores/store.js'
export { DEMO_BOT, DemoMix, demoEvent, startDemo, type DemoOptions, type DemoTarget, type Random } from './demo.js'
export { PublishError, PublishLimits, isChannel, nestedDeeperThan, normalizePublish, type NormalizedEvent } from './publish.js'
export { parseIdentify, type IdentifyRequest, type IdentityKind } from './identify/parse.js'
export { silentLogger, stderrLogger, type Logger } from './log.js'
export type { OutboxLimits } from './outbox.js'
export { NodeTimers, type ProtocolTimers, type TimerHandle } from './timers.js'
export { createMetrics, storeAnswers, type ServerMetrics } from './metrics.js'
