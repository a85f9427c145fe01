import { describe, expect, it } from 'vitest'
import { parseRecord, recordText } from './persist.js'

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
