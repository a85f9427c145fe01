import { filter, type OperatorFunction } from 'rxjs'
import type { EventMeta, ReceivedEvent } from '../codec/codecs.js'
import type { ContextOf } from '../codec/contexts.js'
import { contextMismatch, fits } from './context-check.js'
import type { Diagnostic } from './diagnostic.js'

export { contextMismatch }

/**
 * A received event whose name is `E`, with `ctx` narrowed to that event's context shape.
 * Distributes over unions, so `TypedEvent<0 | 16>` is a vote or a view, each with its own ctx.
 */
export type TypedEvent<E extends number> = E extends number
  ? Omit<ReceivedEvent, 'm' | 'ctx'> & {
      readonly m: EventMeta & { readonly e: E }
      readonly ctx: ContextOf<E>
    }
  : never

/** The least an event needs for {@link isEvent}: a name `m.e` and a context. */
export interface EventLike {
  /** The metadata; only the name is read. */
  readonly m: { readonly e: number }
  /** The context, checked against the name's context codec. */
  readonly ctx: unknown
}

/**
 * What {@link isEvent} narrows `T` to for names `E`: the members of a union of typed events
 * whose name is one of `E` (so an `if` or a `switch (true)` inside an `ofEvent(A, B)`
 * subscriber picks one), or `T` as a {@link TypedEvent} when its name is any number.
 */
export type NarrowedEvent<T, E extends number> = T extends { readonly m: { readonly e: infer X } }
  ? number extends X
    ? Omit<T, 'm' | 'ctx'> & TypedEvent<E>
    : X extends E
      ? T
      : never
  : never

/** Options of {@link ofEvent}, given after the names. */
export interface OfEventConfig {
  /**
   * Called with a `ctx-mismatch` diagnostic for each event that has one of the names but
   * whose ctx does not fit its context codec: the events this operator leaves out. Give it
   * your diagnostics sink, so that no event vanishes unseen.
   * @default none: such events are left out here without a word; `connect()` and `fromFrames()`
   * check every event's ctx by default and report each on `diagnostic$`, so they are seen there
   * unless that check was turned off (`checkContexts: false`, or a `checkEvent` of your own)
   */
  readonly onMismatch?: (diagnostic: Diagnostic) => void
}

/**
 * True when `event` has one of the names and its ctx fits that name's context codec; then
 * TypeScript narrows it to that event's type. Nested `m.e` does not narrow a union by
 * itself (`if (ev.m.e === EventName.BotVote)` leaves `ev.ctx` unnarrowed): this guard does.
 *
 * @example
 * client.event$.pipe(ofEvent(EventName.BotVote, EventName.BotView)).subscribe((ev) => {
 *   if (isEvent(ev, EventName.BotVote)) console.log(ev.ctx.votes) // number
 *   else console.log(ev.ctx.widget) // boolean | undefined: a view
 * })
 */
export function isEvent<T extends EventLike, E extends number>(event: T, ...names: readonly E[]): event is Extract<NarrowedEvent<T, E>, T> {
  return (names as readonly number[]).includes(event.m.e) && fits(event)
}

/**
 * Keeps the events with one of the given names and narrows their `ctx` to the shape those
 * events carry. An event whose ctx does not have that shape is left out of this stream (it is
 * still on `event$`): the narrowed type would otherwise be a lie. Give `{ onMismatch }` after
 * the names to be told of each one left out.
 *
 * @example
 * client.event$.pipe(ofEvent(EventName.BotVote, { onMismatch: (d) => console.warn(d.message) })).subscribe((vote) => {
 *   console.log(vote.ctx.votes) // number
 * })
 */
export function ofEvent<E extends number>(...names: readonly E[]): OperatorFunction<ReceivedEvent, TypedEvent<E>>
export function ofEvent<E extends number>(
  ...namesThenConfig: readonly [...names: E[], config: OfEventConfig]
): OperatorFunction<ReceivedEvent, TypedEvent<E>>
export function ofEvent<E extends number>(...args: readonly (E | OfEventConfig)[]): OperatorFunction<ReceivedEvent, TypedEvent<E>> {
  const last = args[args.length - 1]
  const given = typeof last === 'object' && last !== null
  const config: OfEventConfig = given ? last : {}
  const names = (given ? args.slice(0, -1) : args) as readonly number[]
  if (names.length === 0) throw new TypeError('ofEvent() needs at least one event name')
  // Refused here, not at the first event: a name that is no integer (a misspelt EventName
  // member is undefined in JS) matches nothing, and an onMismatch that is no function would
  // error the stream at the first mismatch.
  for (const name of names) {
    if (!Number.isSafeInteger(name)) throw new TypeError(`ofEvent(): an event name must be an integer (got ${typeof name})`)
  }
  if (config.onMismatch !== undefined && typeof config.onMismatch !== 'function') {
    throw new TypeError('ofEvent(): onMismatch must be a function')
  }
  const wanted = new Set<number>(names)
  const onMismatch = config.onMismatch
  return filter((event): event is ReceivedEvent & TypedEvent<E> => {
    if (!wanted.has(event.m.e)) return false
    if (fits(event)) return true
    if (onMismatch !== undefined) onMismatch(contextMismatch(event) as Diagnostic)
    return false
  })
}
