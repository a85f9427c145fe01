import { describe, expect, it } from 'vitest'
import { MemoryStore } from './memory.js'
import type { EventsById, LiveEvent } from './store.js'

describe('MemoryStore', () => {
  it('counts requests in a window fixed at creation, not extended by increments', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    expect(await store.countRequest('k', 2, 1000)).toBe(2)
    now = 900
    expect(await store.countRequest('k', 1, 1000)).toBe(3)
    now = 1000
    expect(await store.countRequest('k', 2, 1000)).toBe(2)
    now = 1999
    expect(await store.countRequest('k', 2, 1000)).toBe(4)
  })

  it('looks tokens up by kind and id', async () => {
    const store = new MemoryStore({ bots: [{ id: '1', token: 'a' }], servers: [{ id: '2', token: 'b' }] })
    expect(await store.tokenOf('bot', '1')).toBe('a')
    expect(await store.tokenOf('server', '1')).toBeUndefined()
    expect(await store.tokenOf('server', '2')).toBe('b')
  })

  it('stores events per channel keyed by eid, keeps the newest, and stores a repeated eid once', async () => {
    const store = new MemoryStore({ maxStoredPerChannel: 2 })
    const delivered: EventsById[] = []
    await store.subscribe('bot-1', (_channel, events) => delivered.push(events))
    expect(await store.publish('bot-1', 'a', { n: 1 })).toBe(true)
    expect(await store.publish('bot-1', 'b', { n: 2 })).toBe(true)
    expect(await store.publish('bot-1', 'a', { n: 3 })).toBe(false)
    expect(await store.publish('bot-1', 'c', { n: 4 })).toBe(true)
    expect(await store.storedEvents('bot-1')).toEqual({ b: { n: 2 }, c: { n: 4 } })
    expect(await store.storedEvents('bot-2')).toEqual({})
    expect(delivered).toEqual([{ a: { n: 1 } }, { b: { n: 2 } }, { c: { n: 4 } }])
  })

  it('forgets expired ratelimit counters, however many identities there were', async () => {
    let now = 0
    const store = new MemoryStore({ now: () => now })
    for (let n = 0; n < 5000; n++) await store.countRequest(`wsrl-${n}-bot`, 2, 1000)
    now = 500
    expect(await store.countRequest('wsrl-1-bot', 1, 1000)).toBe(3)
    now = 1000
    // Every counter of the first window expired; the new one starts afresh.
    expect(await store.countRequest('wsrl-1-bot', 2, 1000)).toBe(2)
    expect(store.counters).toBe(1)
    now = 1500
    expect(await store.countRequest('wsrl-2-bot', 2, 1000)).toBe(2)
    expect(store.counters).toBe(2)
  })

  it('delivers to subscribers in publish order, synchronously, until unsubscribed', async () => {
    const store = new MemoryStore()
    const seen: [string, EventsById][] = []
    const unsubscribe = await store.subscribe('global', (channel, events) => seen.push([channel, events]))
    void store.publish('global', 'a', 1)
    void store.publish('bot-1', 'b', 2)
    void store.publish('global', 'c', 3)
    expect(seen).toEqual([
      ['global', { a: 1 }],
      ['global', { c: 3 }],
    ])
    await unsubscribe()
    await store.publish('global', 'd', 4)
    expect(seen).toHaveLength(2)
  })

  it('hands a batch to batch listeners in runs per channel, in publish order, repeats and history-only events left out', async () => {
    const store = new MemoryStore()
    const runs: [string, string[]][] = []
    const plain: EventsById[] = []
    const record = (channel: string, events: readonly LiveEvent[]): void => void runs.push([channel, events.map((e) => `${e.eid}=${String(e.event)}`)])
    const unsubscribe = await store.subscribeBatches('global', record)
    await store.subscribeBatches('bot-1', record)
    await store.subscribe('global', (_channel, events) => void plain.push(events))
    await store.publish('global', 'a', 1)
    await store.publishMany([
      { channel: 'global', eid: 'b', event: 2 },
      { channel: 'global', eid: 'a', event: 9 },
      { channel: 'global', eid: 'c', event: 3 },
      { channel: 'bot-1', eid: 'd', event: 4 },
      { channel: 'global', eid: 'e', event: 5, live: false },
      { channel: 'global', eid: 'f', event: 6 },
      { channel: 'global', eid: 'g', event: 7 },
    ])
    expect(runs).toEqual([
      ['global', ['a=1']],
      ['global', ['b=2', 'c=3']],
      ['bot-1', ['d=4']],
      ['global', ['f=6', 'g=7']],
    ])
    // Plain listeners are unchanged: one object per event.
    expect(plain).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }, { f: 6 }, { g: 7 }])
    await unsubscribe()
    await store.publishMany([{ channel: 'global', eid: 'h', event: 8 }])
    expect(runs).toHaveLength(4)
    expect(Object.keys(await store.storedEvents('global')).sort()).toEqual(['a', 'b', 'c', 'e', 'f', 'g', 'h'])
  })

  it('stamps each stored event with its channel position (m.pos), a repeat taking none, and says the head', async () => {
    const store = new MemoryStore({ maxStoredPerChannel: 2 })
    const delivered: EventsById[] = []
    await store.subscribe('bot-1', (_channel, events) => delivered.push(events))
    const runs: unknown[] = []
    await store.subscribeBatches('bot-1', (_channel, events) => runs.push(...events.map((e) => e.event)))
    const published = { m: { e: 0, pos: 'forged:9' }, ctx: {} }
    await store.publish('bot-1', 'a', published)
    await store.publish('bot-1', 'a', { m: { e: 0 }, ctx: {} })
    await store.publish('global', 'g', { m: { e: 1 }, ctx: {} })
    await store.publishMany([{ channel: 'bot-1', eid: 'b', event: { m: { e: 0 }, ctx: {} } }, { channel: 'bot-1', eid: 'c', event: { m: { e: 0 }, ctx: {} } }])
    const head = await store.headOf!('bot-1')
    const epoch = head!.epoch
    expect(epoch).toMatch(/^[0-9a-f]{12}$/)
    expect(head).toEqual({ epoch, offset: 3 })
    expect(await store.headOf!('global')).toEqual({ epoch, offset: 1 })
    expect(await store.headOf!('server-9')).toEqual({ epoch, offset: 0 })
    // Trimmed to the newest two: offsets keep counting.
    expect(await store.storedEvents('bot-1')).toEqual({ b: { m: { e: 0, pos: `${epoch}:2` }, ctx: {} }, c: { m: { e: 0, pos: `${epoch}:3` }, ctx: {} } })
    expect(delivered.map((events) => Object.values(events)[0])).toEqual([
      { m: { e: 0, pos: `${epoch}:1` }, ctx: {} },
      { m: { e: 0, pos: `${epoch}:2` }, ctx: {} },
      { m: { e: 0, pos: `${epoch}:3` }, ctx: {} },
    ])
    // Batch listeners (the fan-out's path) get the same stamped events.
    expect(runs).toEqual(delivered.map((events) => Object.values(events)[0]))
    // The producer's object is not changed.
    expect(published.m.pos).toBe('forged:9')
    // Another store (a restarted server) is another life.
    expect((await new MemoryStore().headOf!('bot-1'))!.epoch).not.toBe(epoch)
  })

  it('with positions: false (or no history), keeps events as published and has no head', async () => {
    for (const store of [new MemoryStore({ positions: false }), new MemoryStore({ maxStoredPerChannel: 0 })]) {
      const seen: EventsById[] = []
      await store.subscribe('bot-1', (_channel, events) => seen.push(events))
      await store.publish('bot-1', 'a', { m: { e: 0, pos: 'x:1' }, ctx: {} })
      expect(seen).toEqual([{ a: { m: { e: 0, pos: 'x:1' }, ctx: {} } }])
      expect(store.headOf).toBeUndefined()
    }
  })

  it('rejects a bad maxStoredPerChannel', () => {
    expect(() => new MemoryStore({ maxStoredPerChannel: -1 })).toThrow(/maxStoredPerChannel/)
  })
})
