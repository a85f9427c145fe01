import { VirtualTimeScheduler } from 'rxjs'

/**
 * A virtual clock for `connect({ scheduler })` whose time moves only when the test says so,
 * for tests written step by step rather than as marbles.
 *
 * @example
 * const clock = new VirtualClock()
 * const client = connect({ url, id, token, WebSocket, scheduler: clock })
 * clock.advance(10_000) // the identity timeout fires
 */
export class VirtualClock extends VirtualTimeScheduler {
  /** Runs everything due within `ms` and leaves the clock exactly `ms` later. */
  advance(ms: number): void {
    const target = this.frame + ms
    this.maxFrames = target
    this.flush()
    this.frame = target
  }
}
