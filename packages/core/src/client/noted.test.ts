import { Subject } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { fakeClient } from '../testing/fake-client.js'
import type { ConnectionStatus } from './connection/status.js'
import { noted } from './noted.js'

describe('noted', () => {
  const status = (detail?: string): ConnectionStatus => ({ state: 'connecting', since: 0, ...(detail === undefined ? {} : { detail }) })

  it('adds the note to every status: as the detail, or after the one there is', () => {
    const statuses = new Subject<ConnectionStatus>()
    const seen: (string | undefined)[] = []
    noted(fakeClient({ status$: statuses }), 'not shared: no Web Locks').status$.subscribe((s) => seen.push(s.detail))
    statuses.next(status())
    statuses.next(status('Connecting'))
    expect(seen).toEqual(['not shared: no Web Locks', 'Connecting (not shared: no Web Locks)'])
  })

  it('passes an end of the statuses on, and leaves the other streams alone', () => {
    const statuses = new Subject<ConnectionStatus>()
    const client = fakeClient({ status$: statuses })
    const ends: string[] = []
    const withNote = noted(client, 'n')
    expect(withNote.event$).toBe(client.event$)
    withNote.status$.subscribe({ complete: () => ends.push('complete') })
    statuses.complete()
    const failing = new Subject<ConnectionStatus>()
    noted(fakeClient({ status$: failing }), 'n').status$.subscribe({ error: (e: unknown) => ends.push(String(e)) })
    failing.error('boom')
    expect(ends).toEqual(['complete', 'boom'])
  })
})
