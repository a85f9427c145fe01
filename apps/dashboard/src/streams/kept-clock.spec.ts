// Found by a review: each test failed before its fix (kept.ts bounds the buckets by the clock both ways).
import { EventName, type ReceivedEvent } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally, parseTally, serializeTally, statsOf, TallyBounds } from './kept.js'

const at = 1_700_000_000_000
const view = (i: number): ReceivedEvent => ({ m: { e: EventName.BotView, eid: `e${i}` }, ctx: {} })

describe('the tally when the clock is set back', () => {
  // 360 s of traffic, one event a second: the tally holds the maximum 360 buckets.
  const full = Array.from({ length: 360 }, (_, i) => i).reduce((t, i) => addEvents(t, [view(i)], at + i * 1000), emptyTally(at))
  // Then the system clock is corrected back by an hour, and one more event arrives.
  const back = at + 359_000 - 3_600_000
  const after = addEvents(full, [view(1000)], back)

  it('holds TallyBounds.seconds whatever the clock does', () => {
    expect(full.buckets).toHaveLength(TallyBounds.seconds)
    expect(after.buckets.length).toBeLessThanOrEqual(TallyBounds.seconds)
  })

  it('reads back what it wrote (the numbers survive the next reload)', () => {
    const parsed = parseTally(serializeTally(after))
    expect(parsed).not.toHaveProperty('problem')
    expect('tally' in parsed && parsed.tally.total).toBe(361)
  })

  it('does not count arrivals stamped an hour in the future in the last minute\'s rate', () => {
    // One event in the last minute by this clock.
    expect(statsOf(after, back + 500, 60_000).perMinuteTotal).toBeLessThanOrEqual(60)
  })
})
