// For the panel's tests (happy-dom): a client that is live at once and sends nothing, which is
// all a panel needs to connect, fold its form and keep its target.
import { BehaviorSubject, NEVER } from 'rxjs'
import type { ClientHandle } from './target-panel.js'

/** A client handle that says `live` at once and emits nothing; `onClose` hears its close. */
export function liveHandle(onClose: () => void = () => {}): ClientHandle {
  return {
    event$: NEVER,
    control$: NEVER,
    diagnostic$: NEVER,
    status$: new BehaviorSubject({ state: 'live' as const, since: 0 }),
    close: onClose,
  }
}
