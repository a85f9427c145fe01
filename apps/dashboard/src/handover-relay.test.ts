import type { ConnectionStatus, ControlPayload, Diagnostic, ReceivedEvent } from '@fates-rx/core'
import { RelayControlCode } from '@fates-rx/core/protocol'
import { BehaviorSubject, NEVER, Subject } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { handedOver, parkAll } from './handover.js'
import type { TargetSettings } from './streams/settings.js'
import { type StatusView, statusView } from './streams/status.js'
import type { ClientHandle } from './view/target-panel.js'

const settings: TargetSettings = { url: 'ws://relay/ws', kind: 'bot', id: '1', token: 'viewer', sendAll: false, sendNone: false }

function fakeClient() {
  const control$ = new Subject<ControlPayload>()
  const status$ = new BehaviorSubject<ConnectionStatus>({ state: 'live', since: 0 })
  const handle: ClientHandle = { event$: new Subject<ReceivedEvent>(), control$, diagnostic$: new Subject<Diagnostic>(), status$, close: () => {} }
  return { control$, status$, handle }
}

const lastView = (handle: ClientHandle): StatusView | undefined => {
  let view: StatusView | undefined
  statusView({ ...handle, metrics$: NEVER }).subscribe((v) => (view = v)).unsubscribe()
  return view
}

describe("a hot update behind a relay whose upstream is down", () => {
  it('the panel that takes the client back still says the upstream is down', () => {
    const client = fakeClient()
    const open = handedOver(() => client.handle)
    const before = open(settings)
    const seen: StatusView[] = []
    const old = statusView({ ...before, metrics$: NEVER }).subscribe((v) => seen.push(v))
    client.control$.next({ code: RelayControlCode.UpstreamConnecting, control: true, detail: 'The relay lost its upstream.' })
    expect(seen.at(-1)?.tone).toBe('warn')

    parkAll()
    old.unsubscribe()
    before.close()
    const after = open(settings)
    const view = lastView(after)
    expect(view?.headline).toBe("Live, but the relay's upstream is connecting")
    expect(view?.tone).toBe('warn')
    expect(view?.lines).toContain('Relay: The relay lost its upstream.')
    after.close()
  })

  it('and no longer once the upstream came back, or a new connection began', () => {
    for (const end of ['live', 'reconnect'] as const) {
      const client = fakeClient()
      const open = handedOver(() => client.handle)
      const before = open(settings)
      const old = statusView({ ...before, metrics$: NEVER }).subscribe()
      client.control$.next({ code: RelayControlCode.UpstreamConnecting, control: true, detail: 'down' })
      if (end === 'live') client.control$.next({ code: RelayControlCode.UpstreamLive, control: true })
      else {
        client.status$.next({ state: 'connecting', since: 1 })
        client.status$.next({ state: 'live', since: 2 })
      }
      parkAll()
      old.unsubscribe()
      before.close()
      const after = open(settings)
      const view = lastView(after)
      expect(view?.headline).toBe('Live')
      expect(view?.tone).toBe('ok')
      after.close()
    }
  })
})
