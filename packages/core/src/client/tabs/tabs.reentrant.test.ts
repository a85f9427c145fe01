import { take } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { memoryBrowser } from '../../testing/index.js'
import { Clock, eventFrame, fakeWebSockets, identityFrame } from '../../test-support/frames.js'
import { digest, id, settle, token } from '../../test-support/tabs-harness.js'
import { connect } from '../connection/connect.js'

// A re-entrancy review (2026-12-08): a shared client's (tabs.ts) last subscriber leaving inside event$'s next().

describe('shareAcrossTabs: the last subscriber leaves on an event (take(1))', () => {
  it('starts the next session afresh, as the unshared client does: no resume from the event it left on', async () => {
    const make = (share: boolean) => {
      const fakes = fakeWebSockets()
      const tab = memoryBrowser().tab()
      const client = connect({
        url: 'ws://127.0.0.1:9/ws', id, token, resume: true, WebSocket: fakes.WebSocket, scheduler: new Clock(), random: () => 0.5,
        ...(share ? { shareAcrossTabs: { ...tab.environment, digest } } : {}),
      })
      return { fakes, client }
    }
    await import('./tabs.js')
    const identifies: unknown[] = []
    for (const share of [false, true]) {
      const { fakes, client } = make(share)
      client.event$.pipe(take(1)).subscribe()
      await settle()
      expect(fakes.sockets, `share: ${share}`).toHaveLength(1)
      fakes.last().handshake().frame(eventFrame('a', 5))
      await settle()
      const again = client.event$.subscribe()
      await settle()
      expect(fakes.sockets, `share: ${share}`).toHaveLength(2)
      fakes.last().open().frame(identityFrame)
      identifies.push(JSON.parse(fakes.last().sent.at(-1) ?? 'null'))
      again.unsubscribe()
    }
    const [unshared, shared] = identifies as { send_all: boolean }[]
    expect(unshared?.send_all).toBe(false)
    expect(shared?.send_all).toBe(unshared?.send_all)
  })
})
