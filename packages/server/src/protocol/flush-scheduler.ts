import type { Outbox } from './outbox.js'
import type { ProtocolTimers } from './timers.js'

/**
 * Runs every waiting writer once per turn of the event loop, shared by all connections of a
 * server: events published in the same turn leave in one frame per connection, and each
 * event is serialized once however many connections it goes to.
 */
export class FlushScheduler {
  readonly #timers: ProtocolTimers
  readonly #dirty = new Set<Outbox>()
  #scheduled = false

  constructor(timers: ProtocolTimers) {
    this.#timers = timers
  }

  /** Asks for `outbox` to be flushed in the coming flush; a bound function, to hand to an {@link Outbox}. */
  readonly soon = (outbox: Outbox): void => {
    this.#dirty.add(outbox)
    if (!this.#scheduled) {
      this.#scheduled = true
      this.#timers.soon(this.#flushAll)
    }
  }

  readonly #flushAll = (): void => {
    this.#scheduled = false
    // A flush may ask for another (a writer resumed by a completed write): that one goes into
    // the next turn, not this loop.
    const outboxes = [...this.#dirty]
    this.#dirty.clear()
    for (const outbox of outboxes) outbox.flush()
  }
}
