import { filter, type OperatorFunction } from 'rxjs'
import { contextCodecOf, type ContextOf } from '../codec/contexts.js'
import type { EventMeta, ReceivedEvent } from '../codec/codecs.js'

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

/**
 * Keeps the events with one of the given names and narrows their `ctx` to the shape those
 * events carry. An event whose ctx does not have that shape is left out of this stream (it is
 * still on `event$`): the narrowed type would otherwise be a lie.
 *
 * @example
 * client.event$.pipe(ofEvent(EventName.BotVote)).subscribe((vote) => {
 *   console.log(vote.ctx.votes) // number
 * })
 */
export function ofEvent<E extends number>(...names: readonly E[]): OperatorFunction<ReceivedEvent, TypedEvent<E>> {
  if (names.length === 0) throw new TypeError('ofEvent() needs at least one event name')
  const wanted = new Set<number>(names)
  return filter(
    (event): event is ReceivedEvent & TypedEvent<E> =>
      wanted.has(event.m.e) && contextCodecOf(event.m.e).is(event.ctx),
  )
}
