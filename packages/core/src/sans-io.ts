/**
 * `@fates-rx/core/sans-io`: the pure pieces `connect()` is made of, for those who drive the
 * protocol themselves (another runtime's socket, a worker sharing one connection) or test
 * their own policy against the client's. Each is a function of its inputs, time included:
 * no timers, no socket, no Subject. (The socket edge that `connect()` drives them with is
 * `@fates-rx/core/socket`.)
 *
 * - the connection, sans-I/O: `connectionStep` and `initialConnectionState` (the state
 *   machine `connect()` interprets), `MaxRefusedUpgrades`;
 * - tabs sharing a connection, sans-I/O: `tabStep`, `initialTabState`, `tabMessage`,
 *   `TabsRecountMs` (the state machine `shareAcrossTabs` interprets); the SharedWorker's hub:
 *   `hubStep`, `initialHubState`, `portMessage`, `hubStatus`, `HubRecentEvents`;
 * - pages that reload, sans-I/O: `persistStep`, `initialPersistLayer` (the layer `persist`
 *   puts around the connection's machine), `mergeLedgers`, `afterReady`; `parseRecord`,
 *   `recordText` (the stored record's text);
 * - per segment, without observables: `forEachSegment`, `decodePayload`, `EventIdMemory`,
 *   `contextMismatch`, `MaxDiagnosticRaw`;
 * - the identify budget: `identifyWait`, `afterIdentify`, `afterReport`, `afterRatelimited`;
 * - backoff and states: `backoffDelay`, `BackoffDefaults`, `canTransition`;
 * - options: `resolveOptions`, `ConnectDefaults`, `identifyMessage`, `urlProblem`,
 *   `tokenProblem`, `snowflakeProblem`, `credentialsProblem`;
 * - the resume mark: `advance`, `advanceAll`, `newer`, `readyMark`, `unseen`, `markCeiling`, `MaxTiedEids`;
 * - sizes and defaults: `utf8Length`, `encodedLength`, `DefaultDedupeCapacity`, `EventStatsDefaults`.
 *
 * Redaction (`redactor`, `redactSecret`) and the codecs are on `@fates-rx/core/protocol`.
 *
 * @packageDocumentation
 */
export { forEachSegment } from './operators/split-frames.js'
export { decodePayload } from './operators/decode-payloads.js'
export { DefaultDedupeCapacity, EventIdMemory } from './operators/dedupe-events.js'
export { contextMismatch } from './operators/of-event.js'
export { MaxDiagnosticRaw, type Redact } from './operators/diagnostic.js'
export { EventStatsDefaults } from './operators/event-stats.js'
export {
  afterIdentify,
  afterRatelimited,
  afterReport,
  type IdentifyBudget,
  type IdentifyBudgetConfig,
  type IdentifyWait,
  identifyWait,
} from './client/policies/identify-budget.js'
export { BackoffDefaults, backoffDelay } from './client/policies/backoff.js'
export { canTransition } from './client/connection/status.js'
// The connection's machine under names that say whose it is (inside core, machine.ts's own
// names): `tabStep` is the other machine on this entry.
export {
  type Effect as ConnectionEffect,
  initialState as initialConnectionState,
  type MachineConfig as ConnectionConfig,
  type MachineInput as ConnectionInput,
  type MachineState as ConnectionMachineState,
  type Connection as ConnectionAttempt,
  type HeldReplay,
  type Phase as ConnectionAttemptPhase,
  MaxRefusedUpgrades,
  step as connectionStep,
  type Step as ConnectionStep,
  type TimerName,
  type Watermark,
} from './client/connection/machine.js'
export {
  type Coverage,
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
} from './client/tabs/tabs-machine.js'
export {
  type HubEffect,
  type HubInput,
  type HubJoin,
  type HubMessage,
  HubRecentEvents,
  type HubState,
  type HubStep,
  type HubTarget,
  hubStatus,
  hubStep,
  initialHubState,
  type PortMessage,
  portMessage,
} from './client/tabs/hub-machine.js'
export {
  ConnectDefaults,
  credentialsProblem,
  identifyMessage,
  type ResolvedOptions,
  resolveOptions,
  snowflakeProblem,
  tokenProblem,
  urlProblem,
} from './client/options.js'
export { encodedLength, utf8Length } from './client/connection/metrics.js'
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
} from './client/persist/persist-machine.js'
export { parseRecord, recordText } from './client/persist/persist.js'
// The resume mark, one rule for both machines.
export { advance, advanceAll, markCeiling, MaxTiedEids, newer, readyMark, unseen } from './client/connection/watermark.js'
