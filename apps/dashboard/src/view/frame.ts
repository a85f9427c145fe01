import { animationFrameScheduler, auditTime, type Observable, type Subscription } from 'rxjs'

/**
 * Renders the newest value of `source` at most once per animation frame, however fast it
 * emits: values that arrive within one frame collapse into the last of them.
 */
export function renderOnFrame<T>(source: Observable<T>, render: (value: T) => void): Subscription {
  return source.pipe(auditTime(0, animationFrameScheduler)).subscribe(render)
}
