import { useMemo, useSyncExternalStore } from 'react'
import { asapScheduler, type Observable, share, timer } from 'rxjs'

/** A store over an observable, in the shape `useSyncExternalStore` asks for. */
export interface ObservableStore<T> {
  /** Subscribes to the observable; returns the unsubscribe React calls on unmount. */
  readonly subscribe: (onChange: () => void) => () => void
  /** The latest value (or the initial one before the first). */
  readonly getSnapshot: () => T
}

/**
 * Adapts an observable to React's external-store contract. The latest value is kept outside
 * React, so a snapshot read between two emissions is always the same value (React requires it).
 */
export function observableStore<T>(source: Observable<T>, initial: T): ObservableStore<T> {
  let latest = initial
  return {
    subscribe: (onChange) => {
      const subscription = source.subscribe((value) => {
        latest = value
        onChange()
      })
      return () => subscription.unsubscribe()
    },
    getSnapshot: () => latest,
  }
}

/**
 * The latest value of an observable, re-rendering on each new one. Pass a stable observable
 * (module-level or memoized): a new one on each render would resubscribe each time.
 * `initial` is read when the source changes, not on every render.
 */
export function useObservable<T>(source: Observable<T>, initial: T): T {
  // The subscription outlives its last subscriber by a microtask: StrictMode's development
  // remount (unsubscribe, then subscribe again at once) keeps it, so a lazy client keeps its
  // socket instead of opening a second one.
  const store = useMemo(
    () => observableStore(source.pipe(share({ resetOnRefCountZero: () => timer(0, asapScheduler) })), initial),
    [source],
  )
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
}
