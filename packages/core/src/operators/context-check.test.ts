import { describe, expect, it } from 'vitest'
import { EventName } from '../protocol/events.js'
import { contextMismatch, fits } from './context-check.js'

describe('the ctx check', () => {
  it('names every failing path inside the ctx, joined, never the values', () => {
    const mismatch = contextMismatch({ m: { e: EventName.BotVote }, ctx: { user: true, votes: 'lots' } })
    expect(mismatch?.kind).toBe('ctx-mismatch')
    expect(mismatch?.message).toBe(
      'event 0: ctx.user: expected string; ctx.user: expected number; ctx.user: expected null (on event$, left out by ofEvent and isEvent)',
    )
    expect(contextMismatch({ m: { e: EventName.BotVote }, ctx: { user: '1', votes: 'lots' } })?.message).toBe(
      'event 0: ctx.votes: expected Integer (on event$, left out by ofEvent and isEvent)',
    )
  })

  // Only a hand-built event can carry a ctx that is no record: decoding refuses one.
  it('says so when the ctx itself is no record, for a name with a codec or without', () => {
    expect(fits({ m: { e: EventName.BotTransfer }, ctx: 'text' })).toBe(false)
    expect(fits({ m: { e: EventName.BotEdit }, ctx: 'text' })).toBe(false)
    expect(contextMismatch({ m: { e: EventName.BotTransfer }, ctx: 'text' } as never)?.message).toBe(
      'event 12: ctx: expected TransferContext (on event$, left out by ofEvent and isEvent)',
    )
  })

  // JSON.parse takes any depth; JSON.stringify overflows the stack near 10,000 levels. The
  // check re-serialises the event for `raw`: a deep ctx must not make it throw.
  it('reports a mismatched ctx nested too deep to re-serialise, with an empty raw, and never throws', () => {
    const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000)) as unknown
    const event = { m: { e: EventName.BotVote, eid: 'deep-1' }, ctx: { user: '1', votes: 'lots', deep } }
    expect(contextMismatch(event)).toEqual({
      kind: 'ctx-mismatch',
      message: 'event 0: ctx.votes: expected Integer (on event$, left out by ofEvent and isEvent)',
      raw: '',
    })
  })
})
