import { Observable } from 'rxjs'

/**
 * Makes streams that count, together, as subscribers of one resource: `first` runs when the
 * first subscription to any of them begins, `last` when the last one ends. Used by both
 * interpreters (connect.ts's connection, tabs.ts's share). Each stream subscribes its source
 * before counting, so a `status$` subscriber sees the start; a subscription already done by
 * then (`status$.pipe(take(1))` reading the replayed state) never counts: opening a socket only
 * to close it in the same tick would cost a TCP (and TLS) handshake. The new Observable also
 * hides the subject: no asObservable() needed.
 */
export function refCounted(first: () => void, last: () => void): <T>(source: Observable<T>) => Observable<T> {
  let refs = 0
  return <T>(source: Observable<T>) =>
    new Observable<T>((subscriber) => {
      const inner = source.subscribe(subscriber)
      if (subscriber.closed) return inner
      // Counted out before `first` runs: a subscriber that leaves on what `first` emits (the
      // first `connecting`) then runs `last` at once, before `first`'s later effects (the socket).
      subscriber.add(() => {
        inner.unsubscribe()
        if (--refs === 0) last()
      })
      if (refs++ === 0) first()
      return undefined
    })
}
