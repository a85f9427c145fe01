import type { ConnectionStatus, ControlPayload, GapOutcome } from '@fates-rx/core'
import { closeMeaning, RelayCloseInfo, RelayControlCode } from '@fates-rx/core/protocol'
import type { TargetInput } from './machine.js'

/**
 * What viewers are told when the upstream comes live, by what core's client knows of the gap
 * (`ConnectionStatus.gap`): "filled" only when its replay proved it.
 */
export const LiveDetail = Object.freeze({
  none: "The relay's upstream is live: events flow.",
  filled: "The relay's upstream is live: events flow, and the gap was filled.",
  unknown:
    "The relay's upstream is live: events flow, but the origin's history did not reach back to the last event relayed before the gap: events published during it may be missing.",
} as const satisfies Record<GapOutcome | 'none', string>)

/**
 * The machine input for an upstream client's status (`opening`: the upstream has not been live
 * since it was opened), or `undefined` for `closed` (the relay's
 * own doing). Pure. The viewer-facing `detail` is built from the state, the close code and
 * core's meaning of it: never core's own detail, which may name the origin's address. The
 * operator's `log` line carries core's detail (core never puts a token in it).
 */
export function upstreamInput(status: ConnectionStatus, opening = false): Extract<TargetInput, { type: 'upstream' }> | undefined {
  const close = status.close === undefined ? '' : ` (close ${status.close.code}: ${meaningOf(status.close.code)})`
  const log = `${status.state}${status.close === undefined ? '' : ` after close ${status.close.code}`}${status.detail === undefined ? '' : `: ${status.detail}`}`
  switch (status.state) {
    case 'closed':
      return undefined
    case 'live':
      // The first live of an opening filled no gap of its viewers' (they joined at its mark),
      // whatever core says of the origin's history reaching back to it.
      return { type: 'upstream', status: 'live', detail: LiveDetail[opening ? 'none' : (status.gap ?? 'none')], log }
    case 'failed':
      return { type: 'upstream', status: 'failed', detail: `The relay's upstream refused it${close}.`, log }
    case 'reconnecting': {
      const wait = status.delayMs === undefined ? '' : ` in ${Math.max(0, Math.round(status.delayMs / 100) / 10)} s`
      // Without a close nothing was lost: the wait is the identify budget's or a backoff's.
      const what = status.close === undefined ? 'is waiting to connect to its upstream' : `lost its upstream${close}`
      return {
        type: 'upstream',
        status: 'connecting',
        detail: `The relay ${what} and connects${wait}; stay connected, no event will be missed.`,
        log,
      }
    }
    default:
      return {
        type: 'upstream',
        status: 'connecting',
        detail: 'The relay is connecting to its upstream; stay connected, no event will be missed.',
        log,
      }
  }
}

/** A close code's meaning, a relay's own codes included (core's client does not carry them). */
function meaningOf(code: number): string {
  return (RelayCloseInfo as Readonly<Record<number, { meaning: string } | undefined>>)[code]?.meaning ?? closeMeaning(code)
}

/**
 * When the upstream is itself a relay: its `upstream_connecting` / `upstream_live` payloads
 * say that the origin further up is down or back, though this relay's own connection is fine.
 * They become the same machine input as this relay's own upstream trouble, so that viewers at
 * the end of a chain learn it too. Other payloads: `undefined`.
 */
export function upstreamNotice(payload: ControlPayload): Extract<TargetInput, { type: 'upstream' }> | undefined {
  const words = payload.detail ?? ''
  if (payload.code === RelayControlCode.UpstreamConnecting) {
    return { type: 'upstream', status: 'connecting', detail: `The relay's upstream relay is reconnecting to its own upstream: ${words}`, log: `upstream relay reports: ${words}` }
  }
  if (payload.code === RelayControlCode.UpstreamLive) {
    // Its words, not ours: whether the gap up there was filled is what that relay knows.
    return { type: 'upstream', status: 'live', detail: `The relay's upstream relay reports its own upstream live: ${words}`, log: 'upstream relay reports its upstream live' }
  }
  return undefined
}
