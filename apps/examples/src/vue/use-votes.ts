import { EventName, type FatesClient, ofEvent } from '@fates-rx/core'
import { distinctUntilChanged, map, type Observable, type Subscription } from 'rxjs'
import { getCurrentInstance, onMounted, onScopeDispose, type Ref, shallowRef } from 'vue'

/**
 * The latest value of an observable as a read-only ref. Call it in `setup()` (or any effect
 * scope): in a component it subscribes once mounted (so never in a server render), and the
 * subscription ends when the component unmounts or the scope stops.
 */
export function useObservable<T>(source: Observable<T>, initial: T): Readonly<Ref<T>> {
  // shallowRef: the values are replaced, never mutated, so deep reactivity would only cost.
  const value = shallowRef(initial) as Ref<T>
  let subscription: Subscription | undefined
  const start = (): void => {
    subscription = source.subscribe((next) => {
      value.value = next
    })
  }
  // In a component, subscribe once mounted: a server render (SSR) never mounts nor unmounts,
  // so a subscription made in setup() would never end there (nor the socket it opened).
  if (getCurrentInstance() === null) start()
  else onMounted(start)
  onScopeDispose(() => subscription?.unsubscribe())
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

/**
 * Why the client stopped for good (`failed`: a wrong token, a bad id), else `undefined`. Show it
 * before the votes, or a failed client looks like a bot nobody votes for.
 */
export function useFailure(client: FatesClient): Readonly<Ref<string | undefined>> {
  return useObservable<string | undefined>(
    client.status$.pipe(
      map((s) => (s.state === 'failed' ? (s.detail ?? 'failed') : undefined)),
      distinctUntilChanged(),
    ),
    undefined,
  )
}
