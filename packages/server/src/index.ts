/**
 * `@fates-rx/server`: a Fates List websocket server faithful to the original, for development,
 * tests and demos. The public surface only; no logic lives here.
 *
 * @packageDocumentation
 */
export { startServer, type RunningServer } from './start.js'
export { ServerDefaults, type ServerOptions } from './options.js'
export { makeServer, type FatesServer } from './protocol/make-server.js'
export type { ProtocolConfig, ProtocolObserver } from './protocol/config.js'
export { ServerDetail } from './wire/details.js'
export type { ConnectionState } from './protocol/connection.js'
export type { PublishOptions, PublishOutcome, PublishRequest } from './protocol/publish-events.js'
export type { PeerInfo, ProtocolSocket, SocketHandlers } from './protocol/socket.js'
export type { Admission, Viewer, ViewerGate, ViewerHold, ViewerRefusal } from './protocol/viewers.js'
export { RelayDefaults, resolveRelay, type RelayOptions, type RelaySurroundings } from './relay/options.js'
export { PublishRetry, Relay, UpstreamLimits, type RelayConfig, type RelayContext, type StoreRetry, type UpstreamReport } from './relay/relay.js'
export {
  step as relayStep,
  IdleTarget,
  OpeningDetail,
  RetryDefaults,
  type RetryPolicy,
  UpstreamStatuses,
  type Audience,
  type TargetConfig,
  type TargetEffect,
  type TargetInput,
  type TargetState,
  type TargetStep,
  type UpstreamStatus,
} from './relay/machine.js'
export { upstreamInput, upstreamNotice } from './relay/upstream-status.js'
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
  type EventBatchListener,
  type EventListener,
  type EventsById,
  type LiveEvent,
  type Store,
  type Unsubscribe,
} from './stores/store.js'
export { DEMO_BOT, DemoMix, demoEvent, MaxDemoRate, startDemo, type DemoOptions, type DemoTarget, type Random } from './demo.js'
export { PublishError, PublishLimits, isChannel, nestedDeeperThan, normalizePublish, type NormalizedEvent } from './publish.js'
export { parseIdentify, type IdentifyRequest, type IdentityKind } from './identify/parse.js'
export { silentLogger, stderrLogger, type Logger } from './log.js'
export { OriginalMaxFrameEvents, type OutboxLimits } from './protocol/outbox.js'
export { MaxTimerMs, NodeTimers, type ProtocolTimers, type TimerHandle } from './protocol/timers.js'
export { createMetrics, storeAnswers, type ServerMetrics } from './metrics.js'
