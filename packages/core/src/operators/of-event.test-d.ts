import type { Observable } from 'rxjs'
import { describe, expectTypeOf, it } from 'vitest'
import type { ReceivedEvent } from '../codec/codecs.js'
import type { InviteContext, OtherContext, TransferContext, VoteContext } from '../codec/contexts.js'
import { EventName } from '../protocol/events.js'
import { ofEvent, type TypedEvent } from './of-event.js'

declare const event$: Observable<ReceivedEvent>

describe('ofEvent types', () => {
  it('narrows a vote to the vote context', () => {
    event$.pipe(ofEvent(EventName.BotVote)).subscribe((vote) => {
      expectTypeOf(vote.ctx).toEqualTypeOf<VoteContext>()
      expectTypeOf(vote.ctx.votes).toEqualTypeOf<number>()
      expectTypeOf(vote.m.e).toEqualTypeOf<0>()
    })
  })

  it('keeps each member of a union with its own context', () => {
    type Either = TypedEvent<typeof EventName.BotInvite | typeof EventName.BotTransfer>
    expectTypeOf<Extract<Either, { m: { e: 17 } }>['ctx']>().toEqualTypeOf<InviteContext>()
    expectTypeOf<Extract<Either, { m: { e: 12 } }>['ctx']>().toEqualTypeOf<TransferContext>()
  })

  it('gives events without a known shape a plain record', () => {
    expectTypeOf<TypedEvent<typeof EventName.BotBan>['ctx']>().toEqualTypeOf<OtherContext>()
    expectTypeOf<TypedEvent<999>['ctx']>().toEqualTypeOf<OtherContext>()
  })

  it('rejects a non-number name', () => {
    // @ts-expect-error event names are numbers
    ofEvent('vote')
  })
})
