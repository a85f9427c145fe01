import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Position } from '@fates-rx/core/protocol'
import type { EventsById } from '../stores/store.js'
import { planReplay, type ReplayInput } from './replay-plan.js'

const E = 'e1'
/** A stored event numbered `n`: position `epoch:n`, and an `m.ts` that runs against the order stored. */
const stored = (n: number, epoch = E, ts = 100 - n): unknown => ({ m: { e: 0, eid: `x${n}`, ts, pos: `${epoch}:${n}` }, ctx: {} })
const history = (...numbers: number[]): EventsById => Object.fromEntries(numbers.map((n) => [`x${n}`, stored(n)]))
const at = (offset: number, epoch = E): Position => ({ epoch, offset })
const eids = (input: ReplayInput): string[] => planReplay(input).events.map(([eid]) => eid)

describe('planReplay', () => {
  it.each<[string, ReplayInput, string, string[]]>([
    ['no position: the whole history, by m.ts', { stored: history(1, 2, 3), positioned: true, head: at(3) }, 'none', ['x3', 'x2', 'x1']],
    ['exact: only what follows, in the order stored', { stored: history(1, 2, 3, 4), after: at(2), head: at(4), positioned: true }, 'exact', ['x3', 'x4']],
    ['exact at the head: nothing', { stored: history(1, 2), after: at(2), head: at(2), positioned: true }, 'exact', []],
    ['exact from the start of the life', { stored: history(1, 2), after: at(0), head: at(2), positioned: true }, 'exact', ['x1', 'x2']],
    ['exact with older events trimmed', { stored: history(3, 4, 5), after: at(3), head: at(5), positioned: true }, 'exact', ['x4', 'x5']],
    ['exact just at the trim', { stored: history(3, 4, 5), after: at(2), head: at(5), positioned: true }, 'exact', ['x3', 'x4', 'x5']],
    ['exact with events stored after the head was read', { stored: history(3, 4, 5, 6), after: at(3), head: at(4), positioned: true }, 'exact', ['x4', 'x5', 'x6']],
    ['unpositioned store', { stored: history(1, 2), after: at(1), positioned: false }, 'unpositioned', ['x2', 'x1']],
    ['another life of the store', { stored: history(1, 2), after: at(1, 'old'), head: at(2), positioned: true }, 'epoch', ['x2', 'x1']],
    // A restarted Redis keeps its snapshot's events in their old life; the new life counts on
    // from the offset it found, so an old-life event at or before the client's offset is older.
    ['an earlier life’s events kept by a restarted Redis, before the position', { stored: { ...Object.fromEntries([1, 2, 3].map((n) => [`x${n}`, stored(n, 'old')])), ...history(4, 5, 6) }, after: at(4), head: at(6), positioned: true }, 'exact', ['x5', 'x6']],
    ['an earlier life’s event after the position: cannot tell', { stored: { x5: stored(5, 'old'), x6: stored(6) }, after: at(4), head: at(6), positioned: true }, 'unpositioned', ['x6', 'x5']],
    ['no life recorded (a flushed Redis)', { stored: {}, after: at(1), positioned: true }, 'epoch', []],
    ['a position past the head', { stored: history(1, 2), after: at(3), head: at(2), positioned: true }, 'ahead', ['x2', 'x1']],
    ['trimmed past the position', { stored: history(4, 5), after: at(2), head: at(5), positioned: true }, 'too-old', ['x5', 'x4']],
    ['trimmed to nothing', { stored: {}, after: at(2), head: at(5), positioned: true }, 'too-old', []],
    // A floor (a relay whose upstream resumed a gap its origin could not fill): what follows, as
    // stored, but not called exact at or before it; after it, exact again; another life's, moot.
    ['a position before the floor', { stored: history(1, 2, 3), after: at(1), head: at(3), floor: at(2), positioned: true }, 'too-old', ['x2', 'x3']],
    ['a position at the floor', { stored: history(1, 2, 3), after: at(2), head: at(3), floor: at(2), positioned: true }, 'too-old', ['x3']],
    ['a position past the floor', { stored: history(1, 2, 3), after: at(3), head: at(3), floor: at(2), positioned: true }, 'exact', []],
    ['a floor of another life', { stored: history(1, 2, 3), after: at(1), head: at(3), floor: at(2, 'old'), positioned: true }, 'exact', ['x2', 'x3']],
    [
      'an event without a position (an original producer’s)',
      { stored: { ...history(1, 2), orig: { m: { e: 0, ts: 50 }, ctx: {} } }, after: at(1), head: at(2), positioned: true },
      'unpositioned',
      ['orig', 'x2', 'x1'],
    ],
    [
      'an event of another life',
      { stored: { ...history(1, 2), y: stored(9, 'old', 1) }, after: at(1), head: at(2), positioned: true },
      'unpositioned',
      ['y', 'x2', 'x1'],
    ],
    [
      'trimmed past the position, events stored after the head not counted',
      { stored: history(5, 6, 7), after: at(3), head: at(5), positioned: true },
      'too-old',
      ['x7', 'x6', 'x5'],
    ],
    ['an event without m', { stored: { ...history(1), bare: { ctx: {} } }, after: at(0), head: at(1), positioned: true }, 'unpositioned', ['bare', 'x1']],
    ['a non-object event', { stored: { ...history(1), n: null, s: 'text' }, after: at(0), head: at(1), positioned: true }, 'unpositioned', ['n', 's', 'x1']],
  ])('%s', (_name, input, outcome, expected) => {
    expect(planReplay(input).outcome).toBe(outcome)
    expect(eids(input)).toEqual(expected)
  })

  it('replays each event with its eid and as stored', () => {
    const events = history(1, 2)
    expect(planReplay({ stored: events, after: at(1), head: at(2), positioned: true }).events).toEqual([['x2', events['x2']]])
  })

  it('exact is exactly the events after the position, in offset order, whatever their m.ts; else the whole history', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 45 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 40, maxLength: 40 }),
        (head, trimmed, offset, stamps) => {
          const kept = Array.from({ length: head }, (_, i) => i + 1).filter((n) => n > Math.min(trimmed, head))
          // Shuffled by key: a store's order says nothing.
          const events: EventsById = Object.fromEntries(kept.reverse().map((n) => [`x${n}`, stored(n, E, stamps[n - 1]!)]))
          const plan = planReplay({ stored: events, after: at(offset), head: at(head), positioned: true })
          if (offset > head) return plan.outcome === 'ahead' && plan.events.length === kept.length
          if (offset < Math.min(trimmed, head)) return plan.outcome === 'too-old' && plan.events.length === kept.length
          const expected = Array.from({ length: head - offset }, (_, i) => `x${offset + i + 1}`)
          return plan.outcome === 'exact' && JSON.stringify(plan.events.map(([eid]) => eid)) === JSON.stringify(expected)
        },
      ),
    )
  })
})
