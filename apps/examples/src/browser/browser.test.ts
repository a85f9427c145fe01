import { fileURLToPath } from 'node:url'
import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { EventName } from '@fates-rx/core'
import { acceptIdentify, fatesEvent, joinFrames, rejectIdentify, scriptedWebSockets, wrapEvent } from '@fates-rx/core/testing'
import { build } from 'esbuild'
import { of } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type * as Page from './main.js'

// Bundles the page for the browser as a site would (everything inlined, platform browser: a
// Node-only import would fail here), then runs the bundle in happy-dom's document against a
// scripted server from the test kit.
const bundle = new URL('../../dist/browser/main.js', import.meta.url)
const id = '811073947382579200'
const token = 'example-secret-token'
let page: typeof Page

beforeAll(async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    outfile: fileURLToPath(bundle),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    metafile: true,
    logLevel: 'error',
  })
  expect(Object.keys(result.metafile.inputs).some((file) => file.includes('/@fates-rx/core/') || file.includes('packages/core/'))).toBe(true)
  GlobalRegistrator.register({ url: 'https://example.test/' })
  page = (await import(/* @vite-ignore */ bundle.href)) as typeof Page
})
afterAll(() => GlobalRegistrator.unregister())

function submit(root: HTMLElement, fields: Record<string, string>): void {
  const form = root.querySelector('form') as HTMLFormElement
  for (const [name, value] of Object.entries(fields)) (form.elements.namedItem(name) as HTMLInputElement).value = value
  form.dispatchEvent(new Event('submit', { cancelable: true }))
}

describe('examples/browser', () => {
  it('connects from the form, shows the state and each event as text, and keeps the token out of the page', async () => {
    const server = scriptedWebSockets([
      acceptIdentify(of(joinFrames(wrapEvent(fatesEvent(EventName.BotVote, { user: '<img src=x onerror=alert(1)>', votes: 3 }))))),
    ])
    const root = document.createElement('div')
    document.body.append(root)
    const unmount = page.mount(root, { WebSocket: server.WebSocket })
    submit(root, { url: 'ws://127.0.0.1:9/ws', id, token })

    await vi.waitFor(() => expect(root.querySelector('.events li')?.textContent).toBe('bot vote by <img src=x onerror=alert(1)>'))
    expect(root.querySelector('.status')?.textContent).toBe('live')
    expect(root.querySelector('img')).toBeNull()
    expect(JSON.parse(server.sockets[0]?.sent[0] ?? '{}')).toMatchObject({ id, token })
    expect(root.outerHTML).not.toContain(token)
    expect((root.querySelector('[name=token]') as HTMLInputElement).value).toBe('')

    unmount()
    await vi.waitFor(() => expect(server.sockets[0]?.closedByClient?.code).toBe(1000))
  })

  it('shows a rejection and a bad option as status text', async () => {
    const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
    const root = document.createElement('div')
    page.mount(root, { WebSocket: server.WebSocket })
    submit(root, { url: 'ws://127.0.0.1:9/ws', id, token })
    await vi.waitFor(() => expect(root.querySelector('.status')?.textContent).toMatch(/^failed: invalid_auth/))

    submit(root, { url: 'ws://127.0.0.1:9/ws', id: 'not-a-snowflake', token })
    expect(root.querySelector('.status')?.textContent).toMatch(/^connect\(\): id must be a Discord snowflake/)
    expect(root.outerHTML).not.toContain(token)
  })

  it('keeps only the newest 50 events on the page', async () => {
    const votes = Array.from({ length: 60 }, (_, i) => wrapEvent(fatesEvent(EventName.BotVote, { user: String(i + 1), votes: i + 1 })))
    const server = scriptedWebSockets([acceptIdentify(of(joinFrames(...votes)))])
    const root = document.createElement('div')
    const unmount = page.mount(root, { WebSocket: server.WebSocket })
    submit(root, { url: 'ws://127.0.0.1:9/ws', id, token })
    await vi.waitFor(() => expect(root.querySelector('.events li')?.textContent).toBe('bot vote by 60'))
    const items = [...root.querySelectorAll('.events li')].map((li) => li.textContent)
    expect(items).toHaveLength(50)
    expect(items.at(-1)).toBe('bot vote by 11')
    unmount()
  })

  it('starts a new list when the form connects again (maybe to another bot)', async () => {
    const vote = wrapEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 1 }))
    const server = scriptedWebSockets([acceptIdentify(of(joinFrames(vote))), acceptIdentify()])
    const root = document.createElement('div')
    const unmount = page.mount(root, { WebSocket: server.WebSocket })
    submit(root, { url: 'ws://127.0.0.1:9/ws', id, token })
    await vi.waitFor(() => expect(root.querySelectorAll('.events li')).toHaveLength(1))

    submit(root, { url: 'ws://127.0.0.1:9/ws', id: '563808552288780322', token })
    expect(root.querySelectorAll('.events li')).toHaveLength(0)
    await vi.waitFor(() => expect(root.querySelector('.status')?.textContent).toBe('live'))
    unmount()
  })
})
