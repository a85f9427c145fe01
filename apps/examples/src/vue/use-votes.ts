import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { map, type Observable } from 'rxjs'
import { onScopeDispose, type Ref, shallowRef } from 'vue'

/**
 * The latest value of an observable as a read-only ref. Call it in `setup()` (or any effect
 * scope): the subscription ends when the component unmounts or the scope stops.
 */
export function useObservable<T>(source: Observable<T>, initial: T): Readonly<Ref<T>> {
  // shallowRef: the values are replaced, never mutated, so deep reactivity would only cost.
  const value = shallowRef(initial) as Ref<T>
  const subscription = source.subscribe((next) => {
    value.value = next
  })
  onScopeDispose(() => subscription.unsubscribe())
  return value
}

/** A bot's vote count, live, or `undefined` before the first vote. */
export function useVotes(client: FatesClient): Readonly<Ref<number | undefined>> {
  return useObservable<number | undefined>(
    client.event$.pipe(
      ofEvent(EventName.BotVote),
      map((vote) => vote.ctx.votes),
    ),
    undefined,
  )
}
