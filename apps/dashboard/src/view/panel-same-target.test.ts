// @vitest-environment happy-dom
// Two panels of one target in one page: disconnecting or removing one of them dropped the
// target from this tab's session and its kept numbers, while the other panel still showed it.
import { afterEach, describe, expect, it } from 'vitest'
import { TargetPanel, type ClientHandle } from './target-panel.js'
import { liveHandle } from './panel-fakes.js'
import { keptKey } from './kept-store.js'
import { sessionTargets } from './remember.js'

const url = 'ws://127.0.0.1:1/ws'
const A = '811073947382579200'

const open = (): ClientHandle => liveHandle()

const made: TargetPanel[] = []
function panel(): TargetPanel {
  const p = new TargetPanel(open, { settings: { url, id: A, token: 'secret-token', kind: 'bot' } })
  document.body.append(p.element)
  p.connect()
  made.push(p)
  return p
}

afterEach(() => {
  for (const p of made.splice(0)) p.destroy()
  localStorage.clear()
  sessionStorage.clear()
})

describe('two panels of one target', () => {
  it('disconnecting one leaves the target in the session: the next load reconnects the other', () => {
    panel()
    const second = panel()
    second.disconnect()
    expect(sessionTargets().map((t) => t.id)).toEqual([A])
  })

  it('removing one keeps the target in the session and keeps its numbers for the other', () => {
    panel()
    const second = panel()
    ;(second.element.querySelector('button.quiet') as HTMLButtonElement).click()
    expect(sessionTargets().map((t) => t.id)).toEqual([A])
    expect(localStorage.getItem(keptKey({ url, kind: 'bot', id: A }))).not.toBeNull()
  })

  it('removing the last one still drops both', () => {
    const first = panel()
    const second = panel()
    second.disconnect()
    ;(first.element.querySelector('button.quiet') as HTMLButtonElement).click()
    made.splice(made.indexOf(first), 1)
    expect(sessionTargets()).toEqual([])
    // The disconnected panel's teardown wrote them; the removal of the last live panel drops them.
    ;(second.element.querySelector('button.quiet') as HTMLButtonElement).click()
    made.splice(made.indexOf(second), 1)
    expect(localStorage.getItem(keptKey({ url, kind: 'bot', id: A }))).toBeNull()
  })
})
