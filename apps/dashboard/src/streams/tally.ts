import type { ReceivedEvent } from '@fates-rx/core'
import { asapScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs'
import { addEvents, type Tally } from './kept.js'

/**
 * Folds events into a {@link Tally}, starting from `initial` (a restored one, or an empty one),
 * which it emits at once. Events that arrive together (a resumed gap, a replay, a burst of
 * traffic) are folded in one step at the scheduler's next turn (a microtask by default), so that a burst of a thousand
 * events copies the tally's bounded arrays once, not a thousand times. Emits only when the tally
 * changed: a burst of repeats changes nothing but, when they are stamped, how far the stream has
 * come (its {@link Tally.run}).
 */
export function tally(initial: Tally, scheduler: SchedulerLike = asapScheduler): OperatorFunction<ReceivedEvent, Tally> {
  return (source) =>
    new Observable<Tally>((subscriber) => {
      let current = initial
      let burst: ReceivedEvent[] = []
      let pending = false
      // One scheduled flush at a time, kept to cancel on unsubscribe.
      let action: Subscription | undefined
      const flush = (): void => {
        pending = false
        const events = burst
        burst = []
        const next = addEvents(current, events, scheduler.now())
        if (next === current) return
        current = next
        subscriber.next(current)
      }
      subscriber.next(current)
      const inner = source.subscribe({
        next: (event) => {
          burst.push(event)
          if (pending) return
          pending = true
          action = scheduler.schedule(flush)
        },
        error: (error: unknown) => {
          if (pending) flush()
          subscriber.error(error)
        },
        complete: () => {
          if (pending) flush()
          subscriber.complete()
        },
      })
      return () => {
        action?.unsubscribe()
        inner.unsubscribe()
      }
    })
}
