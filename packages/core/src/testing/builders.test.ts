import { validate, version } from 'uuid'
import { describe, expect, it } from 'vitest'
import { ControlPayload, FatesEvent, ServerPayload, WrappedEvent } from '../codec/codecs.js'
import { contextCodecOf } from '../codec/contexts.js'
import { ControlCode, ControlDetail } from '../protocol/control.js'
import { EventName } from '../protocol/events.js'
import { Protocol } from '../protocol/limits.js'
import {
  controlPayload,
  donePriorPayload,
  fatesEvent,
  identityPayload,
  invalidAuthPayload,
  invalidPayloadPayload,
  joinFrames,
  ratelimitedPayload,
  readyPayload,
  receivedEvent,
  testEventId,
  wrapEvent,
} from './builders.js'

const segments = (frame: string) => frame.split(Protocol.separator).filter((s) => s !== '')

describe('control payload builders', () => {
  it.each([
    ['identity', identityPayload(), ControlCode.Identity, ControlDetail.identity, -1],
    ['ready', readyPayload(), ControlCode.Ready, ControlDetail.ready(2), 18],
    ['ready after 4 requests', readyPayload(4), ControlCode.Ready, ControlDetail.ready(4), 16],
    ['done_prior', donePriorPayload(), ControlCode.DonePrior, ControlDetail.donePrior, 18],
    ['invalid_auth', invalidAuthPayload(), ControlCode.InvalidAuth, 'no rows in result set', -1],
    ['invalid_payload', invalidPayloadPayload('id must be a string'), ControlCode.InvalidPayload, 'id must be a string', -1],
    ['ratelimited (11th identify)', ratelimitedPayload(), ControlCode.Ratelimited, ControlDetail.ratelimited(22), -2],
    ['an unknown code', controlPayload('resume'), 'resume', '', 20],
  ])('%s: decodes as a control payload with the protocol table texts', (_, payload, code, detail, remaining) => {
    expect(ControlPayload.is(payload)).toBe(true)
    expect(payload).toMatchObject({ code, detail, requests_remaining: remaining, control: true })
  })

  it('keeps an optional chan and lets a test set ts', () => {
    expect(readyPayload(2, { chan: 'bot-1', ts: 5 })).toMatchObject({ chan: 'bot-1', ts: 5 })
    expect(readyPayload()).not.toHaveProperty('chan')
  })
})

describe('event builders', () => {
  it.each([
    [EventName.BotVote, { user: '563808552288780322', votes: 57, test: false }],
    [EventName.BotView, { user: '1', widget: true }],
    [EventName.ReviewAdd, { user: '1', review: '<b>great</b>', star_rating: 5 }],
    [EventName.BotTransfer, { user: '1', new_owner: '2' }],
    [99, { anything: 1 }],
  ] as const)('event %i: a valid event whose ctx has its shape', (e, ctx) => {
    const event = fatesEvent(e as number, ctx)
    expect(FatesEvent.is(event)).toBe(true)
    expect(contextCodecOf(e).is(event.ctx)).toBe(true)
    expect(event.m).toMatchObject({ e, t: -1, ts: 1_700_000_000 })
  })

  it('takes metadata and gives each event its own UUID', () => {
    const a = fatesEvent(EventName.BotInvite, { user: '1' })
    const b = fatesEvent(EventName.BotInvite, { user: '1' }, { eid: 'fixed', ts: 2.5, t: [1, 2], id: null, wt: 3 })
    // Real event IDs are version-4 UUIDs; the test IDs are too, so code that checks them accepts them.
    expect(validate(a.m.eid)).toBe(true)
    expect(version(a.m.eid ?? '')).toBe(4)
    expect(testEventId()).not.toBe(testEventId())
    expect(b.m).toEqual({ e: EventName.BotInvite, eid: 'fixed', ts: 2.5, t: [1, 2], id: null, wt: 3 })
  })

  it('wraps an event as the original server did, and as event$ delivers it', () => {
    const event = fatesEvent(EventName.BotVote, { user: '1', votes: 1 })
    const wrapped = wrapEvent(event, 'bot-2')
    expect(WrappedEvent.is(wrapped)).toBe(true)
    expect(Object.keys(wrapped)).toEqual(['chan', 'code', 'control', 'dat', 'detail'])
    expect(receivedEvent(event, { chan: 'bot-2', prior: true })).toEqual({ ...event, chan: 'bot-2', prior: true })
  })
})

describe('joinFrames', () => {
  const a = wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 1 }))
  const b = wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 2 }))

  it('batches events the way the server writer does', () => {
    expect(joinFrames('A')).toBe('A\x1f')
    expect(joinFrames('A', 'B', 'C')).toBe('A\x1f\x1fB\x1f\x1fC\x1f')
    expect(segments(joinFrames(a, b)).map((s) => JSON.parse(s) as unknown)).toEqual([a, b])
  })

  it('sends a lone control payload with no separator', () => {
    const frame = joinFrames(readyPayload())
    expect(frame).not.toContain(Protocol.separator)
    expect(ServerPayload.is(JSON.parse(frame))).toBe(true)
  })

  it('refuses an empty frame', () => {
    expect(() => joinFrames()).toThrow(/at least one/)
  })
})
