import { describe, expect, it, vi } from 'vitest'
import { control, eventFrame } from '../../test-support/frames.js'
import { harness, token } from '../../test-support/virtual-client.js'
import { FixedUnixSeconds } from '../../testing/index.js'
import type { PersistStore } from './persist-support.js'
import { parseRecord, StoreReadTimeoutMs } from './persist.js'

// connect({ persist }) in virtual time: each harness is a page load (a new client on a new
// clock that starts at 0, inside the window of the loads before), the store outlives them.
const T = FixedUnixSeconds
const frameOf = (...parts: string[]) => parts.map((part) => `${part}\x1f`).join('\x1f')
const identify = (sent: readonly string[]) => JSON.parse(sent.at(-1) ?? '{}') as { send_all?: boolean }

/** A store in memory that counts its writes; `async` answers reads with a promise. */
function memoryStore(options: { async?: boolean } = {}) {
  const items = new Map<string, string>()
  let writes = 0
  const store: PersistStore = {
    getItem: (key) => (options.async === true ? Promise.resolve(items.get(key)) : (items.get(key) ?? null)),
    setItem: (key, value) => {
      writes += 1
      items.set(key, value)
    },
  }
  return { store, items, writes: () => writes }
}

/** Lets the record's chunk load and its digest and read settle (real promises, virtual clock). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}

/**
 * Waits (in real time: the chunk, the digest and the store are real promises) until the page
 * has read its record: it opened a socket, or it says how long it waits, or it failed.
 */
const restored = (page: ReturnType<typeof harness>): Promise<void> =>
  vi.waitFor(() => expect(page.sockets.length > 0 || page.statuses.some((s) => s.state !== 'closed')).toBe(true), { timeout: 5_000 })

describe('connect({ persist })', () => {
  it('keeps the mark and the ledger under a digest, never the token, and the next load fills its gap once', async () => {
    const { store, items } = memoryStore()
    const first = harness({ persist: store })
    // Nothing opens before the record is read.
    expect(first.sockets).toHaveLength(0)
    await restored(first)
    first.last().handshake()
    first.last().frame(eventFrame('a', T + 1)).frame(eventFrame('b', T + 2))
    await settle()
    const [key, text] = [...items][0] ?? []
    expect(items.size).toBe(1)
    expect(key).toMatch(/^fates-rx:1:[0-9a-f]{64}$/)
    expect(`${key} ${text}`).not.toContain(token)
    expect(parseRecord(text)).toEqual({ mark: { ts: T + 2, eid: 'b' }, ledger: { windowStart: 0, remaining: 18, lastIdentifyAt: 0 } })
    first.leave()

    // The next load: resumes from b, as a reconnect does.
    const second = harness({ persist: store })
    await restored(second)
    second.last().handshake(16)
    expect(identify(second.last().sent).send_all).toBe(true)
    second.last().frame(frameOf(eventFrame('d', T + 4), eventFrame('a', T + 1), eventFrame('c', T + 3), eventFrame('b', T + 2)))
    second.last().frame(control('done_prior', 16))
    expect(second.eids()).toEqual(['c', 'd'])
    expect(second.events.every((event) => event.resumed === true)).toBe(true)
    second.leave()
  })

  it('keeps the mark where the gap began while a replay is not whole, and a replay held when the last subscriber leaves reaches the next one', async () => {
    const { store, items } = memoryStore()
    const page = harness({ persist: store })
    await restored(page)
    page.last().handshake()
    page.last().frame(eventFrame('a', T + 1))
    page.last().closeFromServer(1006)
    page.clock.advance(250)
    page.last().handshake(16)
    // Held until done_prior, and the component that subscribed goes (a route change).
    page.last().frame(frameOf(eventFrame('c', T + 3), eventFrame('a', T + 1)))
    await settle()
    expect(parseRecord([...items.values()][0])?.mark).toMatchObject({ ts: T + 1, eid: 'a' })
    page.leave()
    await settle()
    expect(page.eids()).toEqual(['a'])
    // The next subscriber resumes from a, and gets the whole gap: the replay held for no one
    // was not delivered, so the dedupe does not take it for delivered.
    const again: string[] = []
    const subscription = page.client.event$.subscribe((event) => again.push(event.m.eid ?? ''))
    await vi.waitFor(() => expect(page.sockets).toHaveLength(3))
    page.last().handshake(14)
    expect(identify(page.last().sent).send_all).toBe(true)
    page.last().frame(frameOf(eventFrame('a', T + 1), eventFrame('c', T + 3), eventFrame('b', T + 2)))
    page.last().frame(control('done_prior', 14))
    subscription.unsubscribe()
    expect(again).toEqual(['b', 'c'])
  })

  it('a page loaded an eleventh time in one window waits for the window, saying until when, and then connects', async () => {
    const { store } = memoryStore({ async: true })
    for (let load = 1; load <= 10; load++) {
      const page = harness({ persist: store })
      await restored(page)
      expect(page.sockets).toHaveLength(1)
      page.last().handshake(20 - 2 * load)
      page.leave()
    }
    const eleventh = harness({ persist: store })
    await restored(eleventh)
    expect(eleventh.sockets).toHaveLength(0)
    // ready came at 0 with 18 left, so the window ends at 420 000 on this clock.
    expect(eleventh.status()).toMatchObject({ state: 'reconnecting', nextRetryAt: 420_000, detail: expect.stringMatching(/0 requests left/) })
    eleventh.clock.advance(419_999)
    expect(eleventh.sockets).toHaveLength(0)
    eleventh.clock.advance(1)
    expect(eleventh.sockets).toHaveLength(1)
    eleventh.leave()
  })

  it('writes the mark once per frame of events, not once per event', async () => {
    const { store, writes } = memoryStore()
    const page = harness({ persist: store })
    await restored(page)
    page.last().handshake()
    const before = writes()
    page.last().frame(frameOf(...Array.from({ length: 50 }, (_, i) => eventFrame(`e${i}`, T + 1 + i))))
    await settle()
    expect(page.eids()).toHaveLength(50)
    expect(writes() - before).toBe(1)
    page.leave()
  })

  it('connects anyway when the store fails, and keeps nothing', async () => {
    const failing: PersistStore = {
      getItem: () => {
        throw new Error('storage blocked')
      },
      setItem: () => {
        throw new Error('quota')
      },
    }
    const page = harness({ persist: failing })
    await restored(page)
    page.last().handshake()
    page.last().frame(eventFrame('a', T + 1))
    expect(page.eids()).toEqual(['a'])
    expect(page.state()).toBe('live')
    page.leave()
  })

  it(`connects without a record when the store does not answer its read within ${StoreReadTimeoutMs} ms`, async () => {
    const writes: string[] = []
    const hanging: PersistStore = {
      getItem: () => new Promise<string>(() => {}),
      setItem: (_key, value) => void writes.push(value),
    }
    const page = harness({ persist: hanging })
    await vi.waitFor(() => expect(page.sockets).toHaveLength(1), { timeout: StoreReadTimeoutMs + 3_000, interval: 50 })
    page.last().handshake()
    expect(page.state()).toBe('live')
    // It still keeps what it spends, for the next page, should the store come back.
    expect(writes.length).toBeGreaterThan(0)
    page.leave()
  }, 10_000)

  it('connects without a record when the options cannot be read for its name', async () => {
    const { items, store } = memoryStore()
    let reads = 0
    const page = harness({
      persist: store,
      token: () => {
        reads += 1
        if (reads === 1) throw new Error('not yet')
        return token
      },
    })
    await restored(page)
    page.last().handshake()
    expect(page.state()).toBe('live')
    expect(items.size).toBe(0)
    page.leave()
  })


  it.each([
    ['true where there is no localStorage (Node)', true, /no usable localStorage/],
    ['a store without its methods', { getItem: () => null } as unknown as PersistStore, /lacks getItem or setItem/],
  ])('with %s, connects unpersisted and every status says why', async (_case, persist, why) => {
    const page = harness({ persist })
    await restored(page)
    page.last().handshake()
    expect(page.state()).toBe('live')
    expect(page.statuses.length).toBeGreaterThan(1)
    for (const status of page.statuses) expect(status.detail).toMatch(why)
    page.leave()
  })
})
