// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest'
import { TargetPanel, type ClientHandle } from './target-panel.js'
import { liveHandle } from './panel-fakes.js'

const open = (): ClientHandle => liveHandle()
const made: TargetPanel[] = []
afterEach(() => {
  for (const p of made.splice(0)) p.destroy()
  localStorage.clear()
  sessionStorage.clear()
})

describe('the focus when the form folds', () => {
  it('moves from the field a keyboard user pressed Enter in to the Disconnect button, not to the page', () => {
    const p = new TargetPanel(open, { settings: { url: 'ws://127.0.0.1:1/ws', id: '811073947382579200', token: 'secret-token', kind: 'bot' } })
    made.push(p)
    document.body.append(p.element)
    const token = p.element.querySelector<HTMLInputElement>('[data-testid="connect-token"]')!
    token.focus()
    expect(document.activeElement).toBe(token)
    // Enter in the token field submits the form: the fields are disabled as it connects, and a
    // browser drops the focus of a disabled field to the body.
    p.connect()
    const submit = p.element.querySelector<HTMLButtonElement>('[data-testid="connect-submit"]')!
    expect(submit.textContent).toBe('Disconnect')
    expect(document.activeElement).toBe(submit)
  })

  it('leaves the focus where it is when it was not in the fields (a click on Connect)', () => {
    const p = new TargetPanel(open, { settings: { url: 'ws://127.0.0.1:1/ws', id: '811073947382579200', token: 'secret-token', kind: 'bot' } })
    made.push(p)
    document.body.append(p.element)
    const elsewhere = document.body.appendChild(document.createElement('button'))
    elsewhere.focus()
    p.connect()
    expect(document.activeElement).toBe(elsewhere)
    elsewhere.remove()
  })
})
