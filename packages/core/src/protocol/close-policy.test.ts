import { describe, expect, it } from 'vitest'
import { CloseCode, CloseInfo, closeMeaning, CloseMeaning, CloseReason } from './close.js'
import { type CloseAction, closePolicy, ClosePolicy, type RefusalAction, refusalAction, RefusalPolicy, RefusalWhy, UnknownClosePolicy } from './close-policy.js'

describe('the close-code policy', () => {
  it.each<[number, CloseAction]>([
    [1000, 'backoff'],
    [1001, 'backoff'],
    [1006, 'backoff'],
    [1009, 'fail'],
    [4000, 'backoff'],
    [4004, 'fail'],
    [4012, 'cooldown'],
    [4500, 'backoff'],
  ])('close %i → %s', (code, action) => {
    expect(closePolicy(code).action).toBe(action)
    expect(closePolicy(code).why.length).toBeGreaterThan(10)
  })

  it.each([1002, 1011, 3000, 4001, 4999])('an unknown code %i backs off', (code) => {
    expect(closePolicy(code)).toBe(UnknownClosePolicy)
  })

  it('covers every known close code and is frozen', () => {
    expect(Object.keys(ClosePolicy).sort()).toEqual(Object.keys(CloseInfo).sort())
    expect(Object.values(CloseCode).every((code) => code in ClosePolicy)).toBe(true)
    expect(Object.isFrozen(ClosePolicy)).toBe(true)
    expect(Object.isFrozen(UnknownClosePolicy)).toBe(true)
  })

  it.each(Object.values(CloseCode))('close %i has a meaning, and the server\'s reason beside it in CloseInfo', (code) => {
    expect(closeMeaning(code)).toBe(CloseMeaning[code])
    expect(CloseMeaning[code].length).toBeGreaterThan(10)
    expect(CloseInfo[code]).toEqual({ reason: CloseReason[code], meaning: CloseMeaning[code] })
    expect(Object.isFrozen(CloseInfo[code])).toBe(true)
  })

  it('names an unknown close code by its number', () => {
    expect(closeMeaning(4321)).toBe('The connection closed with code 4321.')
  })

  it('the close tables are frozen', () => {
    for (const table of [CloseInfo, CloseMeaning, CloseReason]) expect(Object.isFrozen(table)).toBe(true)
  })
})

describe('the upgrade-refusal policy', () => {
  it.each<[number, RefusalAction]>([
    [408, 'retry'],
    [429, 'retry'],
    [401, 'slow-retry'],
    [403, 'slow-retry'],
    [404, 'slow-retry'],
    [400, 'give-up'],
    [410, 'give-up'],
    [426, 'give-up'],
  ])('HTTP %i → %s', (status, action) => {
    expect(refusalAction(status)).toBe(action)
    expect(RefusalWhy[action].length).toBeGreaterThan(10)
  })

  it.each([undefined, 200, 301, 500, 502, 503])('HTTP %s is no refusal', (status) => {
    expect(refusalAction(status)).toBeUndefined()
  })

  it('is frozen', () => {
    expect(Object.isFrozen(RefusalPolicy)).toBe(true)
    expect(Object.isFrozen(RefusalWhy)).toBe(true)
  })
})
