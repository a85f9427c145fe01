import { describe, expect, it } from 'vitest'
import { EventLabel, eventLabel, EventName, eventNameOf, isKnownEvent } from './events.js'

describe('the event table', () => {
  const entries = Object.entries(EventName)

  it('names every event number both ways, and labels each', () => {
    expect(entries).toHaveLength(37)
    for (const [name, e] of entries) {
      expect(isKnownEvent(e)).toBe(true)
      expect(eventNameOf(e)).toBe(name)
      expect(eventLabel(e)).toBe(EventLabel[e])
    }
    // One label per number, none left over.
    expect(Object.keys(EventLabel).map(Number).sort((a, b) => a - b)).toEqual(entries.map(([, e]) => e).sort((a, b) => a - b))
  })

  it('labels the events a dashboard shows as the original did', () => {
    expect(eventLabel(EventName.BotVote)).toBe('bot vote')
    expect(eventLabel(EventName.ServerInvite)).toBe('server invite')
  })

  it.each([24, 29, 99, -1, 1.5, Number.NaN])('does not know %d, and labels it as unknown', (e) => {
    expect(isKnownEvent(e)).toBe(false)
    expect(eventNameOf(e)).toBeUndefined()
    expect(eventLabel(e)).toBe(`unknown event ${e}`)
  })
})
