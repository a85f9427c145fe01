/**
 * `@fates-rx/core/building-blocks`: the former name of two entries, kept for one release so
 * that imports keep working. It re-exports `@fates-rx/core/sans-io` (the pure pieces, with
 * the connection's machine also under its former names `step` and `initialState`) and
 * `@fates-rx/core/socket` (`webSocket$`).
 *
 * @deprecated Import from `@fates-rx/core/sans-io` and `@fates-rx/core/socket`.
 * @packageDocumentation
 */
export * from './sans-io.js'
export * from './socket.js'
export {
  type Effect,
  initialState,
  type MachineConfig,
  type MachineInput,
  type MachineState,
  step,
  type Step,
} from './client/connection/machine.js'
