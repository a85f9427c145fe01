import { describe, expect, it } from 'vitest'
import { FlushScheduler } from './flush-scheduler.js'
import type { Outbox } from './outbox.js'
import type { ProtocolTimers } from './timers.js'

/** Timers whose `soon` callbacks run only when the test says so. */
function manualSoon() {
  const queued: (() => void)[] = []
  const timers = { soon: (callback: () => void) => void queued.push(callback) } as unknown as ProtocolTimers
  return { timers, queued, run: () => queued.splice(0).forEach((callback) => callback()) }
}

const outbox = (flushes: string[], name: string) => ({ flush: () => void flushes.push(name) }) as unknown as Outbox

describe('FlushScheduler', () => {
  it('schedules one flush per turn however many writers ask, and flushes each writer once', () => {
    const clock = manualSoon()
    const scheduler = new FlushScheduler(clock.timers)
    const flushes: string[] = []
    const a = outbox(flushes, 'a')
    const b = outbox(flushes, 'b')
    scheduler.soon(a)
    scheduler.soon(b)
    scheduler.soon(a)
    expect(clock.queued).toHaveLength(1)
    clock.run()
    expect(flushes).toEqual(['a', 'b'])
  })

  it('puts a writer that asks during a flush into the next one', () => {
    const clock = manualSoon()
    const scheduler = new FlushScheduler(clock.timers)
    const flushes: string[] = []
    const again = {
      flush: () => {
        flushes.push('again')
        if (flushes.length === 1) scheduler.soon(again)
      },
    } as unknown as Outbox
    scheduler.soon(again)
    clock.run()
    expect(flushes).toEqual(['again'])
    expect(clock.queued).toHaveLength(1)
    clock.run()
    expect(flushes).toEqual(['again', 'again'])
  })
})
