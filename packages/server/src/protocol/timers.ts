/**
 * The longest wait a timer can take (milliseconds): Node's `setTimeout` and `setInterval` run a
 * longer one after 1 ms (with a `TimeoutOverflowWarning`), so a wait configured past it would
 * fire at once, again and again.
 */
export const MaxTimerMs = 2_147_483_647

/** A scheduled callback that can be pushed back or cancelled. */
export interface TimerHandle {
  /** Restarts the wait from now, as Node's `timeout.refresh()` does. */
  refresh(): void
  /** Stops it; calling it again, or after it ran, does nothing. */
  cancel(): void
}

/**
 * The clock-driven scheduling the protocol logic uses, injectable so that protocol tests can
 * run in virtual time instead of sleeping. {@link NodeTimers} is the default.
 */
export interface ProtocolTimers {
  /** Runs `callback` once after `ms` milliseconds. */
  after(ms: number, callback: () => void): TimerHandle
  /** Runs `callback` every `ms` milliseconds. */
  every(ms: number, callback: () => void): TimerHandle
  /** Runs `callback` once, after the current turn's I/O (the writer's flush). */
  soon(callback: () => void): void
}

/** {@link ProtocolTimers} on Node's timers. */
export const NodeTimers: ProtocolTimers = Object.freeze({
  after(ms: number, callback: () => void): TimerHandle {
    const timer = setTimeout(callback, ms)
    return { refresh: () => void timer.refresh(), cancel: () => clearTimeout(timer) }
  },
  every(ms: number, callback: () => void): TimerHandle {
    const timer = setInterval(callback, ms)
    return { refresh: () => void timer.refresh(), cancel: () => clearInterval(timer) }
  },
  soon(callback: () => void): void {
    setImmediate(callback)
  },
})
