import fc from 'fast-check'
import { from, lastValueFrom, toArray } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/index.js'
import { dedupeEvents, EventIdMemory } from './dedupe-events.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const ev = (eid?: string): ReceivedEvent => ({ m: eid === undefined ? { e: 0 } : { e: 0, eid }, ctx: {} })

describe('dedupeEvents', () => {
  it('drops a repeated eid and passes events without one', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = { a: ev('a'), b: ev('b'), n: ev() }
      const source = cold('-a-b-a-n-n-b-|', values)
      expectObservable(source.pipe(dedupeEvents())).toBe('-a-b---n-n---|', values)
      expectSubscriptions(source.subscriptions).toBe('^------------!')
    })
  })

  it('forgets the oldest eid first when full', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = { a: ev('a'), b: ev('b'), c: ev('c') }
      const source = cold('-a-b-c-a-c-|', values)
      // Capacity 2: c pushes a out, so a passes again; c is still remembered.
      expectObservable(source.pipe(dedupeEvents({ capacity: 2 }))).toBe('-a-b-c-a---|', values)
      expectSubscriptions(source.subscriptions).toBe('^----------!')
    })
  })

  it('keeps separate memory per subscription', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const values = { a: ev('a') }
      const deduped = cold('-a-a-|', values).pipe(dedupeEvents())
      expectObservable(deduped).toBe('-a---|', values)
      expectObservable(deduped).toBe('-a---|', values)
    })
  })

  it.each([0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects a capacity of %d, saying why', (capacity) => {
    expect(() => dedupeEvents({ capacity })).toThrow(new RangeError(`dedupeEvents: capacity must be a positive integer (got ${String(capacity)})`))
    expect(() => new EventIdMemory(capacity)).toThrow(/positive integer/)
  })

  it('accepts the smallest capacity, 1: it remembers the last ID only', () => {
    const memory = new EventIdMemory(1)
    expect([memory.firstSight('a'), memory.firstSight('a'), memory.firstSight('b'), memory.firstSight('a')]).toEqual([
      true,
      false,
      true,
      true,
    ])
  })

  it('EventIdMemory remembers exactly the last `capacity` first sights (property, against a list)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat(), { minLength: 100, maxLength: 1500, size: 'max' }),
        // Short IDs are kept as strings; the UUID prefixes pad to 36 characters, so the
        // lowercase ones are packed into words and the uppercase ones (and the near-misses
        // with a wrong separator) must stay distinct strings.
        fc.constantFrom('e', '9a6c1f2e-0000-4000-8000-', '9A6C1F2E-0000-4000-8000-', '9a6c1f2e_0000-4000-8000-', ''),
        (capacity, universe, draws, prefix) => {
        // The table is a hand-written hash table (probing, backward-shift deletion): the model
        // is the plain definition, a list of the last `capacity` first sights.
        const memory = new EventIdMemory(capacity)
        const model: string[] = []
        for (const draw of draws) {
          const n = draw % universe
          const eid = prefix.length === 24 ? `${prefix}${(n % 3 === 0 ? String(n) : n.toString(16)).padStart(12, '0')}` : `${prefix}${n}`
          const fresh = !model.includes(eid)
          if (fresh) {
            model.push(eid)
            if (model.length > capacity) model.shift()
          }
          expect(memory.firstSight(eid)).toBe(fresh)
        }
      }),
      { numRuns: 150 },
    )
    expect(() => new EventIdMemory(0)).toThrow(RangeError)
  })

  // Pairs of UUIDs whose FNV-1a hashes collide, each differing in one 32-bit word only: the
  // table compares stored IDs only after a hash match, so only colliding IDs test that compare.
  it.each([
    ['0000e792-0000-4000-8000-000000000000', '00019ebc-0000-4000-8000-000000000000'],
    ['9a6c1f2e-0000-166e-8000-000000000000', '9a6c1f2e-0000-c69a-8000-000000000000'],
    ['9a6c1f2e-0000-4000-0000-269100000000', '9a6c1f2e-0000-4000-0002-eb0b00000000'],
    ['9a6c1f2e-0000-4000-8000-00000000897b', '9a6c1f2e-0000-4000-8000-0000000438a8'],
    // Kept as strings, not words: the string compare after the hash match.
    ['event-112461', 'eid-302081'],
    // One kept as words, one as a string.
    ['9a6c1f2e-0000-4000-8000-000000027b12', 'not-a-uuid-0000000000000000000103289'],
  ])('EventIdMemory tells apart %s and %s, whose hashes collide', (first, second) => {
    const memory = new EventIdMemory(4)
    expect(memory.firstSight(first)).toBe(true)
    expect(memory.firstSight(second)).toBe(true)
    expect(memory.firstSight(first)).toBe(false)
    expect(memory.firstSight(second)).toBe(false)
  })

  // A string ID that takes over a UUID's place in the ring leaves the UUID's words behind:
  // they must not make the UUID, seen again, look remembered (hashes collide, as above).
  it('EventIdMemory forgets a UUID whose place a string ID with the same hash took', () => {
    const memory = new EventIdMemory(1)
    const uuid = '9a6c1f2e-0000-4000-8000-000000027b12'
    expect(memory.firstSight(uuid)).toBe(true)
    expect(memory.firstSight('not-a-uuid-0000000000000000000103289')).toBe(true)
    expect(memory.firstSight(uuid)).toBe(true)
  })

  it('EventIdMemory keeps IDs that differ only in case apart', () => {
    const memory = new EventIdMemory(4)
    const lower = '9a6c1f2e-0000-4000-8000-00000000abcd'
    expect(memory.firstSight(lower)).toBe(true)
    expect(memory.firstSight(lower.toUpperCase())).toBe(true)
    expect(memory.firstSight(lower)).toBe(false)
    expect(memory.firstSight(lower.toUpperCase())).toBe(false)
    expect(memory.firstSight(lower.replace('abcd', 'abce'))).toBe(true)
  })

  it('delivers each eid exactly once when repeats fall within the capacity (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), async (ids) => {
        const out = await lastValueFrom(from(ids.map((n) => ev(String(n)))).pipe(dedupeEvents({ capacity: 64 }), toArray()))
        expect(out.map((e) => e.m.eid)).toEqual([...new Set(ids.map(String))])
      }),
    )
  })
})
