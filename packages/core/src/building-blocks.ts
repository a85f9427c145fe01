/**
 * `@fates-rx/core/building-blocks`: the pure pieces `connect()` is made of, for those who
 * drive the protocol themselves (another runtime's socket, a worker sharing one connection)
 * or test their own policy against the client's. Each is a function of its inputs (time
 * included), with no timers and no socket, except `webSocket$`, the one effectful edge.
 *
 * - the socket edge: `webSocket$` (a WebSocket as open / frame / close signals, the close
 *   saying why when the runtime knows);
 * - per segment, without observables: `forEachSegment`, `decodePayload`, `EventIdMemory`,
 *   `contextMismatch`, `MaxDiagnosticRaw`;
 * - the identify budget: `identifyWait`, `afterIdentify`, `afterReport`, `afterRatelimited`;
 * - the connection itself, sans-I/O: `step` and `initialState` (the state machine connect()
 *   interprets), `MaxRefusedUpgrades`;
 * - tabs sharing a connection, sans-I/O: `tabStep`, `initialTabState`, `tabMessage`,
 *   `TabsRecountMs` (the state machine `shareAcrossTabs` interprets);
 * - pages that reload, sans-I/O: `persistStep`, `initialPersistLayer` (the layer `persist`
 *   puts around `step`), `mergeLedgers`, `afterReady`; `parseRecord`, `recordText` (the
 *   stored record's text);
 * - backoff and states: `backoffDelay`, `BackoffDefaults`, `canTransition`;
 * - options: `resolveOptions`, `ConnectDefaults`, `identifyMessage`, `urlProblem`,
 *   `tokenProblem`, `snowflakeProblem`, `credentialsProblem`;
 * - sizes and defaults: `utf8Length`, `encodedLength`, `DefaultDedupeCapacity`, `EventStatsDefaults`.
 *
 * Redaction (`redactor`, `redactSecret`) and the codecs are on `@fates-rx/core/protocol`.
 *
 * @packageDocumentation
 */
export { webSocket$ } from './socket/web-socket.js'
export { forEachSegment } from './operators/split-frames.js'
export { decodePayload } from './operators/decode-payloads.js'
export { DefaultDedupeCapacity, EventIdMemory } from './operators/dedupe-events.js'
export { contextMismatch } from './operators/of-event.js'
export { MaxDiagnosticRaw } from './operators/diagnostic.js'
export { EventStatsDefaults } from './operators/event-stats.js'
export { afterIdentify, afterRatelimited, afterReport, identifyWait } from './client/identify-budget.js'
export { BackoffDefaults, backoffDelay } from './client/backoff.js'
export { canTransition } from './client/status.js'
export {
  type Effect,
  initialState,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  MaxRefusedUpgrades,
  step,
  type Step,
  type TimerName,
  type Watermark,
} from './client/machine.js'
export {
  initialTabState,
  type TabConfig,
  type TabEffect,
  type TabInput,
  type TabItem,
  type TabMessage,
  type TabPhase,
  TabsRecountMs,
  type TabState,
  type TabStep,
  tabMessage,
  tabStep,
} from './client/tabs-machine.js'
export {
  afterReady,
  initialPersistLayer,
  type MachineStep,
  mergeLedgers,
  type PersistEffect,
  type Persisted,
  type PersistInput,
  type PersistLayer,
  type PersistStep,
  persistStep,
} from './client/persist-machine.js'
export { parseRecord, recordText } from './client/persist.js'
export {
  ConnectDefaults,
  credentialsProblem,
  identifyMessage,
  resolveOptions,
  snowflakeProblem,
  tokenProblem,
  urlProblem,
} from './client/options.js'
export { encodedLength, utf8Length } from './client/metrics.js'
