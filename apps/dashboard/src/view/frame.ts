import { animationFrameScheduler, asyncScheduler, auditTime, type Observable, type Subscription } from 'rxjs'

/**
 * Renders the newest value of `source` at most once per animation frame, however fast it
 * emits: values that arrive within one frame collapse into the last of them. With
 * `minIntervalMs`, also at most once per that interval: lists and numbers that change a
 * thousand times a second are unreadable at 60 updates a second and cost layout and paint.
 */
export function renderOnFrame<T>(source: Observable<T>, render: (value: T) => void, minIntervalMs = 0): Subscription {
  const paced = minIntervalMs > 0 ? source.pipe(auditTime(minIntervalMs, asyncScheduler)) : source
  return paced.pipe(auditTime(0, animationFrameScheduler)).subscribe(render)
}
