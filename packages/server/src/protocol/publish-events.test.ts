// publishEvents over stores that fail part-way: what a caller is told decides whether it may
// retry, so a partly stored batch must never look like a plain failure.
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../stores/memory.js'
import { StoreOutcomeUnknown, type Store } from '../stores/store.js'
import { groupCommit, publishEvents, type PublishRequest } from './publish-events.js'
import type { EventToStore } from '../stores/store.js'

/** A memory store without `publishMany` whose `publish` fails at event `k` (0-based), with `error`. */
function failingAt(k: number, error: () => Error): { store: Store; stored: string[] } {
  const memory = new MemoryStore()
  const stored: string[] = []
  let calls = 0
  const store: Store = {
    tokenOf: (kind, id) => memory.tokenOf(kind, id),
    countRequest: (key, cost, windowMs) => memory.countRequest(key, cost, windowMs),
    storedEvents: (channel) => memory.storedEvents(channel),
    subscribe: (channel, listener) => memory.subscribe(channel, listener),
    close: () => memory.close(),
    async publish(channel, eid, event) {
      if (calls++ === k) throw error()
      stored.push(eid)
      return memory.publish(channel, eid, event)
    },
  }
  return { store, stored }
}

const requests = (n: number): PublishRequest[] =>
  Array.from({ length: n }, (_, i) => ({ channel: 'bot-1', event: { m: { e: 0, eid: `e${i}`, ts: i }, ctx: { user: '1', votes: i } } }))
const allEids = (n: number): string[] => Array.from({ length: n }, (_, i) => `e${i}`)

// [k, what the store throws, what the caller gets]: a plain error only when nothing was stored.
const Cases = [
  [0, 'a plain error', () => new Error('down'), 'plain'],
  [1, 'a plain error', () => new Error('down'), 'unknown'],
  [2, 'a plain error', () => new Error('down'), 'unknown'],
  [3, 'a plain error', () => new Error('down'), 'unknown'],
  [0, 'an unknown outcome', () => new StoreOutcomeUnknown('lost the answer'), 'unknown'],
  [2, 'an unknown outcome', () => new StoreOutcomeUnknown('lost the answer'), 'unknown'],
] as const

describe('publishEvents on a store without publishMany', () => {
  it.each(Cases)('failing at event %i of 4 with %s: %s', async (k, _what, error, expected) => {
    const { store, stored } = failingAt(k, error)
    let failures = 0
    const outcome = publishEvents(store, { storeFailed: () => failures++ }, () => 1_000, requests(4))
    if (expected === 'plain') {
      await expect(outcome).rejects.toThrow('down')
      await expect(outcome).rejects.not.toBeInstanceOf(StoreOutcomeUnknown)
    } else {
      await expect(outcome).rejects.toBeInstanceOf(StoreOutcomeUnknown)
      // Every eid, not only those stored: the caller retries the whole batch with them.
      await expect(outcome).rejects.toMatchObject({ eids: allEids(4) })
    }
    expect(stored).toEqual(allEids(k))
    expect(failures).toBe(1)
  })

  it('stores every event in order and counts repeats when nothing fails', async () => {
    const { store, stored } = failingAt(-1, () => new Error('never'))
    let published: [number, number] | undefined
    const observer = { published: (s: number, r: number) => void (published = [s, r]) }
    expect(await publishEvents(store, observer, () => 1_000, [...requests(3), requests(1)[0]!])).toEqual([
      { eid: 'e0', repeat: false },
      { eid: 'e1', repeat: false },
      { eid: 'e2', repeat: false },
      { eid: 'e0', repeat: true },
    ])
    expect(stored).toEqual(['e0', 'e1', 'e2', 'e0'])
    expect(published).toEqual([3, 1])
  })
})

describe('groupCommit', () => {
  /** A store call that waits until released: what the calls were, and how to answer them. */
  function slowStore(): { calls: string[][]; release: (answer?: Error) => void; storeMany: (events: readonly EventToStore[]) => Promise<boolean[]> } {
    const calls: string[][] = []
    const pending: { events: readonly EventToStore[]; resolve: (flags: boolean[]) => void; reject: (error: Error) => void }[] = []
    return {
      calls,
      release(answer) {
        const call = pending.shift()!
        if (answer === undefined) call.resolve(call.events.map((e) => !e.eid.startsWith('old')))
        else call.reject(answer)
      },
      storeMany(events) {
        calls.push(events.map((e) => e.eid))
        return new Promise((resolve, reject) => pending.push({ events, resolve, reject }))
      },
    }
  }
  const events = (...eids: string[]): EventToStore[] => eids.map((eid) => ({ channel: 'global', eid, event: {} }))
  const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  it('sends the calls of one turn as one call, then those made while it is in flight as the next, in order, each caller getting its own flags', async () => {
    const store = slowStore()
    const many = groupCommit(store.storeMany)
    const first = many(events('a'))
    const second = many(events('b', 'old-c'))
    expect(store.calls).toEqual([])
    await Promise.resolve()
    expect(store.calls).toEqual([['a', 'b', 'old-c']])
    const third = many(events('d'))
    const fourth = many(events('old-e', 'f'))
    await flush()
    expect(store.calls).toHaveLength(1)
    store.release()
    expect(await first).toEqual([true])
    expect(await second).toEqual([true, false])
    await flush()
    expect(store.calls).toEqual([['a', 'b', 'old-c'], ['d', 'old-e', 'f']])
    store.release()
    expect(await third).toEqual([true])
    expect(await fourth).toEqual([false, true])
    await flush()
    // Idle again: the next turn's call goes alone.
    void many(events('g'))
    await flush()
    expect(store.calls).toEqual([['a', 'b', 'old-c'], ['d', 'old-e', 'f'], ['g']])
  })

  it('fails every caller of a failed group with its error, and carries on with the next', async () => {
    const store = slowStore()
    const many = groupCommit(store.storeMany)
    const first = many(events('a'))
    await Promise.resolve()
    const second = many(events('b'))
    const third = many(events('c'))
    store.release(new StoreOutcomeUnknown('lost'))
    await expect(first).rejects.toBeInstanceOf(StoreOutcomeUnknown)
    await flush()
    store.release(new Error('down'))
    await expect(second).rejects.toThrow('down')
    await expect(third).rejects.toThrow('down')
    await flush()
    const fourth = many(events('d'))
    await Promise.resolve()
    store.release()
    expect(await fourth).toEqual([true])
  })

  it('gives each caller of a grouped call its own eids when the outcome is unknown', async () => {
    const store = slowStore()
    const many = groupCommit(store.storeMany)
    const memory = new MemoryStore()
    const publish = (from: number) =>
      publishEvents(memory, {}, () => 1_000, requests(from + 2).slice(from), {}, many)
    const first = publish(0)
    await Promise.resolve()
    const second = publish(2)
    store.release()
    await first
    await flush()
    store.release(new StoreOutcomeUnknown('lost'))
    await expect(second).rejects.toMatchObject({ eids: ['e2', 'e3'] })
    expect(store.calls).toEqual([['e0', 'e1'], ['e2', 'e3']])
  })
})
