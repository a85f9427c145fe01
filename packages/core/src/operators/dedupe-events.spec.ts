import fc from 'fast-check'
import { from, lastValueFrom, toArray } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ReceivedEvent } from '../codec/index.js'
import { dedupeEvents, EventIdMemory } from './dedupe-events.js'

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))
const ev = (eid?: string): ReceivedEvent => ({ m: eid === undefined ? { e: 0 } : { e: 0, eid }, ctx: {} })
/** The hash an EventIdMemory stores for `eid` (its private table, read on purpose). */
const storedHash = (eid: string): number => {
  const memory = new EventIdMemory(1)
  memory.firstSight(eid)
  return (memory as unknown as { hashes: Int32Array }).hashes.find((hash) => hash !== 0) as number
}

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

  it('passes an error of its source on, with its value, after the events before it', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const values = { a: ev('a') }
      const failure = new Error('socket gone')
      const source = cold('-a-a-#', values, failure)
      expectObservable(source.pipe(dedupeEvents())).toBe('-a---#', values, failure)
      expectSubscriptions(source.subscriptions).toBe('^----!')
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

  it.each([0, -1, 2.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 20 + 1, 2 ** 31])('rejects a capacity of %d, saying why', (capacity) => {
    expect(() => dedupeEvents({ capacity })).toThrow(new RangeError(`dedupeEvents: capacity must be a positive integer up to 2**20 (got ${String(capacity)})`))
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

  it('forgets its oldest ID without moving an entry before its home slot, past the table’s end or not', () => {
    // An ID's home slot: where it lands alone in a fresh memory (8 slots up to capacity 4).
    const homeOf = (eid: string): number => {
      const alone = new EventIdMemory(4)
      alone.firstSight(eid)
      return (alone as unknown as { hashes: Int32Array }).hashes.findIndex((hash) => hash !== 0)
    }
    const used: string[] = []
    const homed = (home: number): string => {
      for (let i = 0; i < 10_000; i++) {
        const eid = `id-${i}`
        if (!used.includes(eid) && homeOf(eid) === home) return (used.push(eid), eid)
      }
      throw new Error(`no ID found for home ${home}`)
    }
    // Linear probing's invariant: every entry is reachable from its home slot, with no empty
    // slot between. Checked before any lookup, which on a broken table could probe forever.
    const reachable = (memory: EventIdMemory): boolean => {
      const { hashes } = memory as unknown as { hashes: Int32Array }
      const mask = hashes.length - 1
      return hashes.every((hash, slot) => {
        if (hash === 0) return true
        for (let at = hash & mask; at !== slot; at = (at + 1) & mask) if (hashes[at] === 0) return false
        return true
      })
    }
    // A run from slot 3: the oldest at its home 3, one displaced from 3 into 4, one at its home 5.
    // Forgetting the oldest pulls the displaced one back, and must leave the one at its home.
    const straight = new EventIdMemory(3)
    const [oldest, displaced, atHome] = [homed(3), homed(3), homed(5)]
    for (const eid of [oldest, displaced, atHome, homed(1)]) expect(straight.firstSight(eid)).toBe(true)
    expect(reachable(straight)).toBe(true)
    expect([straight.firstSight(displaced), straight.firstSight(atHome)]).toEqual([false, false])
    // A run from slot 5 that wraps past the table's end: the oldest at 5, one displaced into 6,
    // one at its home 7, one displaced from 7 into slot 0. The last must not be pulled before
    // its home (into 6), where no lookup from slot 7 would find it.
    const wrapped = new EventIdMemory(4)
    const [first, second, seventh, beyond] = [homed(5), homed(5), homed(7), homed(7)]
    for (const eid of [first, second, seventh, beyond, homed(1)]) expect(wrapped.firstSight(eid)).toBe(true)
    expect(reachable(wrapped)).toBe(true)
    expect([wrapped.firstSight(second), wrapped.firstSight(seventh), wrapped.firstSight(beyond)]).toEqual([false, false, false])
  })

  it('gives every slot of its table a chance to be a home slot, the even ones too', () => {
    // A hash made odd to keep 0 for empty slots would leave only the odd slots as homes: half
    // the homes, and probe runs twice as crowded as the table's size was chosen for.
    const homes = new Set<number>()
    for (let i = 0; i < 200; i++) homes.add(storedHash(`id-${i}`) & 7)
    for (let i = 0; i < 200; i++) homes.add(storedHash(`9a6c1f2e-0000-4000-8000-${String(i).padStart(12, '0')}`) & 7)
    expect([...homes].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
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

  // Pairs of IDs whose stored hashes collide (a packed UUID's from its words, any other ID's
  // FNV-1a), the UUIDs each differing in one 32-bit word only: the table compares stored IDs
  // only after a hash match, so only colliding IDs test that compare. Mixing one word into the
  // hash is one-to-one, so two UUIDs that differ in one word collide only where a hash of 0 is
  // stored as 1: each UUID pair is the word that mixes to 0 and the one that mixes to 1, solved
  // by inverting the mix; the string pairs were found by a birthday search.
  it.each([
    ['103a5dc5-0000-4000-8000-000000000000', '5cdbcc34-0000-4000-8000-000000000000'],
    ['9a6c1f2e-9d1e-17f1-8000-000000000000', '9a6c1f2e-0cdb-a992-8000-000000000000'],
    ['9a6c1f2e-0000-4000-c7c4-706300000000', '9a6c1f2e-0000-4000-1a8e-c5ba00000000'],
    ['9a6c1f2e-0000-4000-8000-00005d3cebd9', '9a6c1f2e-0000-4000-8000-000068a0af42'],
    // Kept as strings, not words: the string compare after the hash match.
    ['eid-z7fblveg', 'eid-wm5ttpgi'],
    // One kept as words, one as a string.
    ['9a6c1f2e-0000-4000-8000-0000000434f9', 'not-a-uuid-0000000000000000000005614'],
  ])('EventIdMemory tells apart %s and %s, whose hashes collide', (first, second) => {
    // The premise first: a change to the hash functions must find new pairs, not leave tests
    // of pairs that no longer collide.
    expect(storedHash(first)).toBe(storedHash(second))
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
    const uuid = '9a6c1f2e-0000-4000-8000-0000000434f9'
    expect(storedHash(uuid)).toBe(storedHash('not-a-uuid-0000000000000000000005614'))
    expect(memory.firstSight(uuid)).toBe(true)
    expect(memory.firstSight('not-a-uuid-0000000000000000000005614')).toBe(true)
    expect(memory.firstSight(uuid)).toBe(true)
  })

  /** The IDs a fresh memory of `capacity` misjudges, fed by `feed`, against a set (the definition). */
  const misjudged = (capacity: number, feed: (sight: (eid: string) => void) => void): string[] => {
    const memory = new EventIdMemory(capacity)
    const seen = new Set<string>()
    const wrong: string[] = []
    feed((eid) => {
      if (memory.firstSight(eid) === seen.has(eid)) wrong.push(eid)
      seen.add(eid)
    })
    return wrong
  }

  // A canonical UUID is kept as four words and any other ID as its string, so packing must never
  // make two different strings one: every character code up to 300 (and a few far beyond) at
  // every position of sixteen UUIDs, each made of one hex digit (and of the string of 36 dashes),
  // against a set; then the same character at every separator or at every digit.
  it('EventIdMemory keeps every one-character variant of a UUID apart from it and from each other', () => {
    const codes = [...Array.from({ length: 300 }, (_, c) => c), 0x130, 0x660, 0xff10, 0xff41, 0xd83d]
    for (const digit of '0123456789abcdef-') {
      const uuid = `${digit.repeat(8)}-${digit.repeat(4)}-${digit.repeat(4)}-${digit.repeat(4)}-${digit.repeat(12)}`
      const wrong = misjudged(16_384, (sight) => {
        sight(uuid)
        for (let at = 0; at < 36; at++) for (const code of codes) sight(uuid.slice(0, at) + String.fromCharCode(code) + uuid.slice(at + 1))
        // Every separator, or every digit, replaced by one character: what packing must refuse
        // whole, not only one position at a time; and the UUID one character longer or shorter.
        for (const code of codes) {
          const char = String.fromCharCode(code)
          sight(uuid.replaceAll('-', char))
          sight(uuid.replace(/[^-]/g, char))
          sight(uuid + char)
        }
        sight(uuid.slice(1))
        sight(uuid)
      })
      expect(wrong).toEqual([])
    }
  })

  // A separator read as a digit shifts a word's oldest digits out: the IDs that then pack alike
  // differ only there. So every choice of separators filled with a digit (the other separators
  // kept), each with every hex digit at every position, against a set.
  it('EventIdMemory keeps apart IDs with hex digits where separators belong', () => {
    const separators = [8, 13, 18, 23]
    const wrong: string[] = []
    for (let filled = 1; filled < 16; filled++) {
      for (const digit of '0f') {
        const base = Array.from({ length: 36 }, (_, at) => {
          const separator = separators.indexOf(at)
          return separator >= 0 && (filled & (1 << separator)) === 0 ? '-' : digit
        })
        wrong.push(
          ...misjudged(1_024, (sight) => {
            for (let at = 0; at < 36; at++) for (const hex of '0123456789abcdef') sight([...base.slice(0, at), hex, ...base.slice(at + 1)].join(''))
          }),
        )
      }
    }
    expect(wrong).toEqual([])
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

describe('an empty eid', () => {
  // FNV's offset basis was written unsigned: the empty ID's hash (no character to make it an
  // int32) never equalled what the Int32Array stored, so "" was never remembered and took a
  // new slot each time (a review's finding). The server takes "" as an eid like any other.
  it('is remembered like any other: seen once, and a replay of it delivered once', async () => {
    const memory = new EventIdMemory(4)
    expect(memory.firstSight('')).toBe(true)
    expect(memory.firstSight('')).toBe(false)
    const out = await lastValueFrom(from([ev(''), ev('a'), ev(''), ev('')]).pipe(dedupeEvents(), toArray()))
    expect(out.map((event) => event.m.eid)).toEqual(['', 'a'])
  })
})
