// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { TargetPanel, type ClientHandle } from './target-panel.js'
import { liveHandle } from './panel-fakes.js'
import { keptKey, saveKept } from './kept-store.js'
import { sessionTargets } from './remember.js'
import { emptyTally } from '../streams/kept.js'

const url = 'ws://127.0.0.1:1/ws'
const A = '811073947382579200'
const B = '811073947382579201'

const open = (): ClientHandle => liveHandle()

function panel(id: string): TargetPanel {
  const p = new TargetPanel(open, { settings: { url, id, token: 'secret-token', kind: 'bot' } })
  document.body.append(p.element)
  p.connect()
  return p
}
const q = (p: TargetPanel, testid: string): HTMLInputElement => p.element.querySelector(`[data-testid="${testid}"]`)!

describe('Remove acts on the target the panel connected, not on what the form says now', () => {
  it("removing a disconnected panel whose ID field was edited leaves another panel's target alone", () => {
    const a = panel(A)
    panel(B)
    saveKept({ url, kind: 'bot', id: B }, emptyTally(0))
    expect(sessionTargets().map((t) => t.id)).toEqual([A, B])

    // Panel A: Disconnect, start typing B's ID (or any other), then Remove the panel.
    a.disconnect()
    expect(localStorage.getItem(keptKey({ url, kind: 'bot', id: A }))).not.toBeNull()
    q(a, 'connect-id').value = B
    ;(a.element.querySelector('button.quiet') as HTMLButtonElement).click()

    // Panel B is still connected: this tab's next load must reconnect it, from its numbers.
    expect(sessionTargets().map((t) => t.id)).toEqual([B])
    expect(localStorage.getItem(keptKey({ url, kind: 'bot', id: B }))).not.toBeNull()
    // Panel A was removed: README "Remove a panel and its numbers go".
    expect(localStorage.getItem(keptKey({ url, kind: 'bot', id: A }))).toBeNull()
  })
})
