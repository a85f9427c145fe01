import type { ControlPayload, ReceivedEvent } from '@fates-rx/core'
import { map } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import { describe, expect, it } from 'vitest'
import type { ConnectionStatus } from './client.js'
import { GapUnknownLine, statusView } from './status.js'

const run = (statuses: Record<string, ConnectionStatus>, marbles: string, expected: string, values: Record<string, unknown>) =>
  new TestScheduler((a, e) => expect(a).toEqual(e)).run(({ hot, expectObservable }) => {
    const status$ = hot<ConnectionStatus>(marbles, statuses)
    const seen = statusView({ status$, event$: hot<ReceivedEvent>('-'), control$: hot<ControlPayload>('-') }).pipe(
      map((v) => v.lines.includes(GapUnknownLine)),
    )
    expectObservable(seen).toBe(expected, values)
  })

describe("a reloaded tab's unfilled gap, told on a welcome while the worker is not live", () => {
  const worker = { role: 'worker' as const, count: 2 }
  it("keeps the warning when the welcome status is 'connecting' (core's hub sends the target's status as it is, with the fill's gap)", () => {
    run(
      {
        // The welcome: the worker's socket is connecting; this tab's reload fill is not known whole.
        w: { state: 'connecting', since: 0, attempt: 2, gap: 'unknown', tabs: worker },
        // The worker's connection goes live (its own reconnect gap filled); statuses shown again carry no gap.
        i: { state: 'identifying', since: 1, attempt: 2, tabs: worker },
        l: { state: 'live', since: 2, gap: 'filled', tabs: worker },
      },
      'w-i-l',
      'w-i-l',
      { w: false, i: false, l: true },
    )
  })
})
