// @vitest-environment happy-dom
// Storage full or blocked. A browser that blocks storage (cookies blocked for the site, a
// sandboxed frame) throws on reading `localStorage` / `sessionStorage` themselves, not on
// `getItem`; a full one throws on `setItem`. Either way Connect opened a client (a socket, an
// identify) and then threw before the panel took it: the panel stayed "Not connected", the
// client was never closed, and each further press opened another one.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type ClientHandle, TargetPanel } from './target-panel.js'
import { liveHandle } from './panel-fakes.js'
import { offeredBefore, rememberedTargets, sessionTargets } from './remember.js'
import { loadKept } from './kept-store.js'

const settings = { url: 'ws://127.0.0.1:1/ws', id: '811073947382579200', token: 'secret-token', kind: 'bot' } as const

function client(): { open: () => ClientHandle; opened: () => number; closed: () => number } {
  let opened = 0
  let closed = 0
  return {
    open: () => {
      opened += 1
      return liveHandle(() => void (closed += 1))
    },
    opened: () => opened,
    closed: () => closed,
  }
}

const submit = (p: TargetPanel): HTMLButtonElement => p.element.querySelector('[data-testid="connect-submit"]')!

/** Makes reading `window[name]` throw, as a browser that blocks storage does. */
function block(name: 'localStorage' | 'sessionStorage'): void {
  const own = Object.getOwnPropertyDescriptor(globalThis, name)
  restore.push(() => (own === undefined ? delete (globalThis as Record<string, unknown>)[name] : Object.defineProperty(globalThis, name, own)))
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get: () => {
      throw new DOMException(`Failed to read the '${name}' property from 'Window': Access is denied for this document.`, 'SecurityError')
    },
  })
}
const restore: (() => void)[] = []

afterEach(() => {
  for (const undo of restore.splice(0).reverse()) undo()
  vi.restoreAllMocks()
})

describe('a panel whose storage is full or blocked', () => {
  it('with localStorage full, connects with the one client it opened (remember on)', () => {
    const c = client()
    const p = new TargetPanel(c.open, { settings: { ...settings, remember: true } })
    document.body.append(p.element)
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError')
    })
    expect(() => p.connect()).not.toThrow()
    expect(submit(p).textContent).toBe('Disconnect')
    expect(c.opened()).toBe(1)
    p.disconnect()
    expect(c.closed()).toBe(1)
    p.destroy()
  })

  it('with storage blocked, connects with the one client it opened', () => {
    const c = client()
    const p = new TargetPanel(c.open, { settings })
    document.body.append(p.element)
    block('localStorage')
    block('sessionStorage')
    expect(() => p.connect()).not.toThrow()
    expect(submit(p).textContent).toBe('Disconnect')
    expect(c.opened()).toBe(1)
    expect(() => p.destroy()).not.toThrow()
    expect(c.closed()).toBe(1)
  })

  it('with storage blocked, a load still builds its panels (main.ts reads these first)', () => {
    block('localStorage')
    block('sessionStorage')
    expect(sessionTargets()).toEqual([])
    expect(rememberedTargets()).toEqual([])
    expect(offeredBefore()).toBe(false)
    // kept-store.ts says it handles denied storage ("nothing kept, nothing to say").
    expect(loadKept(settings, 3).tally.total).toBe(0)
  })
})
