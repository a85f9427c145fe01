import type * as t from 'io-ts'
import { describe, expectTypeOf, it } from 'vitest'
import type { ControlPayload, EventMeta, FatesEvent, IdentifyPayload, ReceivedEvent, WrappedEvent } from './codecs.js'
import type { InviteContext, ItemContext, ReviewContext, TransferContext, ViewContext, VoteContext } from './contexts.js'
import type * as codecs from './codecs.js'
import type * as contexts from './contexts.js'

// Each wire type is an interface that names its fields for the docs; the codec stays the
// definition. `extends` already makes every interface a subtype of its codec's type; these
// check the other way, so that no field is declared narrower than the codec accepts.
describe('wire types are their codecs\' types, under a name', () => {
  it('accepts everything the codec accepts', () => {
    expectTypeOf<t.TypeOf<typeof codecs.ControlPayload>>().toExtend<ControlPayload>()
    expectTypeOf<t.TypeOf<typeof codecs.EventMeta>>().toExtend<EventMeta>()
    expectTypeOf<t.TypeOf<typeof codecs.FatesEvent>>().toExtend<FatesEvent>()
    expectTypeOf<t.TypeOf<typeof codecs.WrappedEvent>>().toExtend<WrappedEvent>()
    expectTypeOf<t.TypeOf<typeof codecs.IdentifyPayload>>().toExtend<IdentifyPayload>()
    expectTypeOf<t.TypeOf<typeof contexts.VoteContext>>().toExtend<VoteContext>()
    expectTypeOf<t.TypeOf<typeof contexts.ViewContext>>().toExtend<ViewContext>()
    expectTypeOf<t.TypeOf<typeof contexts.InviteContext>>().toExtend<InviteContext>()
    expectTypeOf<t.TypeOf<typeof contexts.ReviewContext>>().toExtend<ReviewContext>()
    expectTypeOf<t.TypeOf<typeof contexts.ItemContext>>().toExtend<ItemContext>()
    expectTypeOf<t.TypeOf<typeof contexts.TransferContext>>().toExtend<TransferContext>()
  })

  it('types the fields as the original sent them: review columns nullable, an item id a list', () => {
    expectTypeOf<ReviewContext['reply']>().toEqualTypeOf<boolean | null | undefined>()
    expectTypeOf<ReviewContext['star_rating']>().toEqualTypeOf<number | null | undefined>()
    expectTypeOf<ReviewContext['review']>().toEqualTypeOf<string | null | undefined>()
    expectTypeOf<ItemContext['id']>().toEqualTypeOf<string | string[] | undefined>()
    expectTypeOf<TransferContext['new_owner']>().toEqualTypeOf<string | number>()
    expectTypeOf<ViewContext['user']>().toEqualTypeOf<string | number | null>()
  })

  it('keeps a received event a FatesEvent with its channel', () => {
    expectTypeOf<ReceivedEvent>().toExtend<FatesEvent>()
    expectTypeOf<ReceivedEvent['chan']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<EventMeta['ts']>().toEqualTypeOf<number | undefined>()
  })
})
