import type { Position } from '@fates-rx/core/protocol'
import type { IdentityKind } from '../stores/store.js'

/** What a relay can do to one viewer connection. */
export interface Viewer {
  /** Queues a control payload (`code`, `detail`, this connection's `requests_remaining`). */
  tell(code: string, detail: string): void
  /** Sends a control payload, then closes with `closeCode` and `reason`. */
  refuse(code: string, detail: string, closeCode: number, reason: string): void
  /** Lets a viewer whose admission was held ({@link ViewerHold}) identify: its `ready` follows. */
  admitted(): void
}

/** Why a viewer may not identify: the control payload it gets, and the close that follows. */
export interface ViewerRefusal {
  readonly code: string
  readonly detail: string
  readonly closeCode: number
  readonly reason: string
}

/**
 * A viewer that may identify later, not now: its identify stays unanswered until the gate calls
 * {@link Viewer.admitted} (or refuses it), for `holdMs` at most, after which it gets `refusal`.
 */
export interface ViewerHold {
  /** The longest wait for the gate's answer (milliseconds). */
  readonly holdMs: number
  /** What a viewer that waited `holdMs` in vain gets. */
  readonly refusal: ViewerRefusal
}

/** The gate's answer to an identify: `undefined` lets the viewer identify; a refusal or a hold do not yet. */
export type Admission = ViewerRefusal | ViewerHold | undefined

/**
 * Relay mode's hook into the protocol logic: the server asks it whether a viewer of a target may
 * identify, and tells it when one has (after `ready` is queued) and when that viewer has closed.
 * A viewer it holds is reported held, then joined, or unheld if it goes first; meanwhile the
 * gate answers it through {@link Viewer.admitted} or {@link Viewer.refuse}. With a gate, the
 * ratelimit counts per connection, never per identity: the per-id counter is the upstream's
 * budget, not the viewers'.
 */
export interface ViewerGate {
  /** After the viewer's token checked out: `undefined` to let it identify, why not, or a hold. */
  admit(kind: IdentityKind, id: string): Admission
  /** A viewer of `kind`/`id` waits on a hold {@link admit} answered. */
  held(kind: IdentityKind, id: string, viewer: Viewer): void
  /**
   * A viewer {@link held} went before it {@link joined} (called once, never for one the gate
   * refused): it closed, or (`turnedAway`) waited the hold's `holdMs` and was turned away.
   */
  unheld(kind: IdentityKind, id: string, viewer: Viewer, turnedAway: boolean): void
  /** A viewer of `kind`/`id` identified (a held one included). */
  joined(kind: IdentityKind, id: string, viewer: Viewer): void
  /** A viewer that {@link joined} closed (called once). */
  left(kind: IdentityKind, id: string, viewer: Viewer): void
  /**
   * The position in `channel` before which a resume cannot be exact, though the store holds
   * what follows it: a relay's upstream resumed a gap its origin could not fill.
   */
  floorOf?(channel: string): Position | undefined
}
