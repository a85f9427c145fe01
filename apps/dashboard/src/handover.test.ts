import type { ConnectionStatus, ControlPayload, Diagnostic, ReceivedEvent } from '@fates-rx/core'
import { BehaviorSubject, Subject } from 'rxjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { handedOver, HandoverBounds, parkAll } from './handover.js'
import type { TargetSettings } from './streams/settings.js'
import type { ClientHandle } from './view/target-panel.js'

const settings: TargetSettings = { url: 'ws://h/ws', kind: 'bot', id: '1', token: 't', sendAll: false, sendNone: false }
const ev = (eid: string): ReceivedEvent => ({ m: { e: 0, eid }, ctx: {} })

function fakeOpen() {
  const opened: { event$: Subject<ReceivedEvent>; closed: number; subscribers: () => number }[] = []
  const open = (): ClientHandle => {
    const event$ = new Subject<ReceivedEvent>()
    const client = { event$, closed: 0, subscribers: () => (event$.observed ? 1 : 0) }
    opened.push(client)
    return {
      event$,
      control$: new Subject<ControlPayload>(),
      diagnostic$: new Subject<Diagnostic>(),
      status$: new BehaviorSubject<ConnectionStatus>({ state: 'live', since: 0 }),
      close: () => (client.closed += 1),
    }
  }
  return { open: handedOver(open), opened }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('handedOver', () => {
  it('closes for real when not parked', () => {
    const { open, opened } = fakeOpen()
    open(settings).close()
    expect(opened[0]?.closed).toBe(1)
    expect(opened[0]?.subscribers()).toBe(0)
  })

  it('keeps a parked client open, buffers its events, and gives them first to the panel that takes it back', () => {
    const { open, opened } = fakeOpen()
    const first = open(settings)
    const seen: string[] = []
    const a = first.event$.subscribe((e) => seen.push(`old:${e.m.eid}`))
    opened[0]?.event$.next(ev('1'))
    parkAll()
    a.unsubscribe()
    first.close()
    opened[0]?.event$.next(ev('2'))
    opened[0]?.event$.next(ev('3'))
    expect(opened[0]?.closed).toBe(0)
    // The client is held while no panel is: it never sees its last subscriber leave.
    expect(opened[0]?.subscribers()).toBe(1)

    const second = open(settings)
    expect(opened).toHaveLength(1)
    second.event$.subscribe((e) => seen.push(`new:${e.m.eid}`))
    opened[0]?.event$.next(ev('4'))
    expect(seen).toEqual(['old:1', 'new:2', 'new:3', 'new:4'])
    // A stale handle cannot close it; the current one can.
    first.close()
    expect(opened[0]?.closed).toBe(0)
    second.close()
    expect(opened[0]?.closed).toBe(1)
    expect(opened[0]?.subscribers()).toBe(0)
  })

  it('opens another client for other settings, and closes a parked one nobody takes back', () => {
    vi.useFakeTimers()
    const { open, opened } = fakeOpen()
    open(settings)
    parkAll()
    const other = open({ ...settings, id: '2' })
    expect(opened).toHaveLength(2)
    vi.advanceTimersByTime(HandoverBounds.waitMs)
    expect(opened[0]?.closed).toBe(1)
    expect(opened[1]?.closed).toBe(0)
    other.close()
  })

  it('closes a parked client whose buffer outgrows its bound', () => {
    const { open, opened } = fakeOpen()
    open(settings)
    parkAll()
    for (let i = 0; i <= HandoverBounds.events; i++) opened[0]?.event$.next(ev(String(i)))
    expect(opened[0]?.closed).toBe(1)
    // The next open of the same settings opens anew.
    open(settings)
    expect(opened).toHaveLength(2)
  })
})
