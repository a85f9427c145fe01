import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../options.js'
import { openRecord, parseRecord, recordText } from './persist.js'
import type { PersistStore } from './persist-support.js'

// The stored record's text: what a page writes and the next reads, possibly another version's
// or a hand-edited one.
describe('the persisted record', () => {
  it('round-trips a mark and a ledger, and a mark without m.ts', () => {
    const record = { mark: { ts: 1_700_000_000.25, eid: 'e1' }, ledger: { windowStart: 1, remaining: 16, lastIdentifyAt: 2, cooldownUntil: 3 } }
    expect(parseRecord(recordText(record))).toEqual(record)
    expect(recordText({ mark: { ts: -Infinity, eid: '' }, ledger: {} })).toBe('{"v":1,"mark":{"ts":null,"eid":""},"ledger":{}}')
    expect(parseRecord('{"v":1,"ledger":{}}')).toEqual({ ledger: {} })
  })

  it.each([
    ['nothing', null],
    ['not JSON', '{'],
    ['another version', '{"v":2,"ledger":{}}'],
    ['no ledger', '{"v":1}'],
    ['a ledger that is not an object', '{"v":1,"ledger":"x"}'],
    ['not an object', '[1]'],
    ['null', 'null'],
  ])('reads %s as no record', (_case, text) => {
    expect(parseRecord(text)).toBeUndefined()
  })

  it('drops the fields that are not what they should be, keeps the rest', () => {
    expect(parseRecord('{"v":1,"mark":{"ts":"soon","eid":"x"},"ledger":{"windowStart":"0","remaining":4,"lastIdentifyAt":null,"cooldownUntil":1e999}}')).toEqual({
      ledger: { remaining: 4 },
    })
    expect(parseRecord('{"v":1,"mark":{"ts":5},"ledger":{}}')).toEqual({ ledger: {} })
    expect(parseRecord('{"v":1,"mark":"x","ledger":{}}')).toEqual({ ledger: {} })
  })

  it('keeps the mark’s positions, so that a reload resumes exactly; drops a position that is not text', () => {
    const record = { mark: { ts: 5, eid: 'e', pos: { 'bot-1': 'k3:7', global: 'k3:2' } }, ledger: {} }
    expect(parseRecord(recordText(record))).toEqual(record)
    expect(parseRecord('{"v":1,"mark":{"ts":5,"eid":"e","pos":{"bot-1":7,"global":"k3:2"}},"ledger":{}}')).toEqual({
      mark: { ts: 5, eid: 'e', pos: { global: 'k3:2' } },
      ledger: {},
    })
    expect(parseRecord('{"v":1,"mark":{"ts":5,"eid":"e","pos":"k3:2"},"ledger":{}}')).toEqual({ mark: { ts: 5, eid: 'e' }, ledger: {} })
  })
})

describe('the persisted record’s fields, exactly', () => {
  it('a record without a usable mark has no mark key, and a mark whose positions are none of them text has no pos key', () => {
    expect(parseRecord('{"v":1,"mark":null,"ledger":{}}')).toStrictEqual({ ledger: {} })
    expect(parseRecord('{"v":1,"mark":{"ts":5,"eid":"e","pos":{"bot-1":7}},"ledger":{}}')).toStrictEqual({ mark: { ts: 5, eid: 'e' }, ledger: {} })
  })

  it('keeps a tied list of up to 1024 eids, all text; drops a longer one, or one holding anything else', () => {
    const tied = (list: unknown[]) => parseRecord(JSON.stringify({ v: 1, mark: { ts: 5, eid: 'e', tied: list }, ledger: {} }))?.mark?.tied
    const eids = Array.from({ length: 1024 }, (_, i) => `e${i}`)
    expect(tied(eids)).toEqual(eids)
    expect(tied([...eids, 'one more'])).toBeUndefined()
    expect(tied(['a', 1])).toBeUndefined()
  })
})

// Where the record is kept: openRecord reads it once and keeps each new one in the store. A
// store may refuse (storage blocked, quota, a failing database): that costs the record, never
// the connection or an error thrown into the client.
describe('a record in its store', () => {
  const config = resolveOptions({ url: 'ws://127.0.0.1:1/ws', id: '42', token: 'persist-secret' })
  const record = (ts: number) => ({ mark: { ts, eid: `e${ts}` }, ledger: {} })
  const memory = (text: string | null = null) => {
    const writes: string[] = []
    const store: PersistStore = {
      getItem: () => text,
      setItem: (_key: string, value: string) => {
        writes.push(value)
        text = value
      },
    }
    return { writes, store }
  }

  it('reads what the store holds under the connection’s name, and keeps a new record under the same name', async () => {
    const keys: string[] = []
    const { store, writes } = memory(recordText(record(1)))
    const opened = await openRecord({ getItem: (key) => (keys.push(key), store.getItem(key)), setItem: (key, value) => (keys.push(key), store.setItem(key, value)) }, config)
    expect(opened.record).toEqual(record(1))
    opened.keep(record(2), true)
    expect(writes.map(parseRecord)).toEqual([record(2)])
    expect(new Set(keys).size).toBe(1)
    expect(keys[0]).toMatch(/^fates-rx:1:/)
    expect(keys[0]).not.toContain('persist-secret')
  })

  it('keeps one write per task, the newest, and writes at once what must not wait', async () => {
    const { store, writes } = memory()
    const opened = await openRecord(store, config)
    opened.keep(record(1), false)
    opened.keep(record(2), false)
    expect(writes).toEqual([])
    await Promise.resolve()
    expect(writes.map(parseRecord)).toEqual([record(2)])
    // An urgent record (an identify about to be sent) is written before keep returns, and the
    // waiting one it replaces is not written after it.
    opened.keep(record(3), false)
    opened.keep(record(4), true)
    expect(writes.map(parseRecord)).toEqual([record(2), record(4)])
    await Promise.resolve()
    expect(writes.map(parseRecord)).toEqual([record(2), record(4)])
  })

  it('a store that throws on reading costs the record only: nothing read, later records still kept', async () => {
    const writes: string[] = []
    const opened = await openRecord(
      {
        getItem: () => {
          throw new Error('storage blocked')
        },
        setItem: (_key, value) => void writes.push(value),
      },
      config,
    )
    expect(opened.record).toBeUndefined()
    opened.keep(record(1), true)
    expect(writes).toHaveLength(1)
  })

  it('a store that refuses a write (a throw, a rejected promise) loses that write and raises nothing', async () => {
    const refusing = (refuse: () => unknown) => openRecord({ getItem: () => null, setItem: refuse }, config)
    const throwing = await refusing(() => {
      throw new Error('quota')
    })
    expect(() => throwing.keep(record(1), true)).not.toThrow()
    const rejecting = await refusing(() => Promise.reject(new Error('quota')))
    expect(() => rejecting.keep(record(1), true)).not.toThrow()
    // An unhandled rejection would fail the run: let it surface, if it were one.
    await new Promise((resolve) => setTimeout(resolve, 0))
  })
})
