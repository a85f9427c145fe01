import { EventName } from '@fates-rx/core'
import { describe, expect, it } from 'vitest'
import { addEvents, emptyTally } from '../streams/kept.js'
import { dropKept, keptKey, loadKept, saveKept } from './kept-store.js'

class MemoryStorage implements Storage {
  readonly map = new Map<string, string>()
  refuse = false
  get length(): number {
    return this.map.size
  }
  clear(): void {
    this.map.clear()
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null
  }
  removeItem(key: string): void {
    this.map.delete(key)
  }
  setItem(key: string, value: string): void {
    if (this.refuse) throw new DOMException('quota', 'QuotaExceededError')
    this.map.set(key, value)
  }
}

const settings = { url: 'ws://h/ws', kind: 'bot', id: '1', token: 'secret-token-1', sendAll: false, sendNone: false } as const
const counted = addEvents(emptyTally(5), [{ m: { e: EventName.BotVote, eid: 'a' }, ctx: { user: '2', votes: 3 } }], 10)

describe('kept numbers', () => {
  it('come back for the same target, under a key of URL, kind and ID, never with the token', () => {
    const storage = new MemoryStorage()
    expect(saveKept(settings, counted, storage)).toBe(true)
    expect([...storage.map.keys()]).toEqual(['fates-rx.dashboard.kept:["ws://h/ws","bot","1"]'])
    expect(JSON.stringify([...storage.map])).not.toContain(settings.token)
    const sameTargetOtherToken = { ...settings, token: 'another' }
    expect(loadKept(sameTargetOtherToken, 99, storage)).toEqual({ tally: counted })
    expect(loadKept({ ...settings, id: '2' }, 99, storage)).toEqual({ tally: emptyTally(99) })
    dropKept(settings, storage)
    expect(storage.length).toBe(0)
  })

  it('start clean, with a problem to show and the entry removed, when the stored text is unreadable', () => {
    const storage = new MemoryStorage()
    storage.setItem(keptKey(settings), '{"v":1,"total":')
    expect(loadKept(settings, 7, storage)).toEqual({ tally: emptyTally(7), problem: 'not JSON' })
    expect(storage.length).toBe(0)
  })

  it('say so when the browser refuses to store, without throwing', () => {
    const storage = new MemoryStorage()
    storage.refuse = true
    expect(saveKept(settings, counted, storage)).toBe(false)
    const denied = { getItem: () => { throw new DOMException('denied', 'SecurityError') } } as unknown as Storage
    expect(loadKept(settings, 3, denied)).toEqual({ tally: emptyTally(3) })
  })
})
