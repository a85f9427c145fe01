import type { IdentityKind } from '../stores/store.js'

/** What a relay can do to one viewer connection. */
export interface Viewer {
  /** Queues a control payload (`code`, `detail`, this connection's `requests_remaining`). */
  tell(code: string, detail: string): void
  /** Sends a control payload, then closes with `closeCode` and `reason`. */
  refuse(code: string, detail: string, closeCode: number, reason: string): void
}

/** Why a viewer may not identify: the control payload it gets, and the close that follows. */
export interface ViewerRefusal {
  readonly code: string
  readonly detail: string
  readonly closeCode: number
  readonly reason: string
}

/**
 * Relay mode's hook into the protocol logic: the server asks it whether a viewer of a target may
 * identify, and tells it when one has (after `ready` is queued) and when that viewer has closed.
 * With a gate, the ratelimit counts per connection, never per identity: the per-id counter is
 * the upstream's budget, not the viewers'.
 */
export interface ViewerGate {
  /** After the viewer's token checked out: `undefined` to let it identify, or why not. */
  admit(kind: IdentityKind, id: string): ViewerRefusal | undefined
  /** A viewer of `kind`/`id` identified. */
  joined(kind: IdentityKind, id: string, viewer: Viewer): void
  /** A viewer that {@link joined} closed (called once). */
  left(kind: IdentityKind, id: string, viewer: Viewer): void
}
