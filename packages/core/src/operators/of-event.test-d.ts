import type { Observable } from 'rxjs'
import { describe, expectTypeOf, it } from 'vitest'
import type { ReceivedEvent } from '../codec/codecs.js'
import type { InviteContext, OtherContext, TransferContext, ViewContext, VoteContext } from '../codec/contexts.js'
import { EventName } from '../protocol/events.js'
import { isEvent, ofEvent, type TypedEvent } from './of-event.js'

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

describe('isEvent types', () => {
  it('picks one member of an ofEvent union with if / else', () => {
    event$.pipe(ofEvent(EventName.BotVote, EventName.BotView)).subscribe((ev) => {
      if (isEvent(ev, EventName.BotVote)) {
        expectTypeOf(ev.ctx).toEqualTypeOf<VoteContext>()
        expectTypeOf(ev.ctx.votes).toEqualTypeOf<number>()
      } else {
        expectTypeOf(ev.ctx).toEqualTypeOf<ViewContext>()
        expectTypeOf(ev.m.e).toEqualTypeOf<16>()
      }
    })
  })

  it('narrows in a switch (true)', () => {
    event$.pipe(ofEvent(EventName.BotVote, EventName.BotView, EventName.BotInvite)).subscribe((ev) => {
      switch (true) {
        case isEvent(ev, EventName.BotVote):
          expectTypeOf(ev.ctx.votes).toEqualTypeOf<number>()
          break
        case isEvent(ev, EventName.BotView, EventName.BotInvite):
          expectTypeOf(ev.ctx).toEqualTypeOf<ViewContext | InviteContext>()
          break
      }
    })
  })

  it('narrows a plain ReceivedEvent from event$', () => {
    event$.subscribe((ev) => {
      if (isEvent(ev, EventName.BotTransfer)) {
        expectTypeOf(ev.ctx).toEqualTypeOf<TransferContext>()
        expectTypeOf(ev.chan).toEqualTypeOf<string | undefined>()
      }
      // @ts-expect-error without the guard, ctx is a plain record
      ev.ctx.votes.toFixed()
    })
  })

  it('keeps a typed event assignable to ReceivedEvent', () => {
    expectTypeOf<TypedEvent<typeof EventName.BotVote>>().toExtend<ReceivedEvent>()
  })
})

describe('ofEvent config types', () => {
  it('takes { onMismatch } after the names and still infers them', () => {
    event$.pipe(ofEvent(EventName.BotVote, EventName.BotView, { onMismatch: (d) => expectTypeOf(d.kind).toExtend<string>() })).subscribe((ev) => {
      expectTypeOf(ev.m.e).toEqualTypeOf<0 | 16>()
    })
  })

  it('rejects the config before the names', () => {
    // @ts-expect-error the config comes last
    ofEvent({ onMismatch: () => undefined }, EventName.BotVote)
  })
})
