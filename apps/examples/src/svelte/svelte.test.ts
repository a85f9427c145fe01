import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { connect, EventName, type FatesClient, type ReceivedEvent } from '@fates-rx/core'
import { fakeClient, fatesEvent, receivedEvent, rejectIdentify, scriptedWebSockets } from '@fates-rx/core/testing'
import { Subject } from 'rxjs'
import type { Component } from 'svelte'
import { compile } from 'svelte/compiler'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

// Compiles the component with svelte/compiler, bundles it with Svelte's browser runtime as a
// bundler would (esbuild, platform browser), then mounts it into happy-dom's document.
const source = fileURLToPath(new URL('./VoteCount.svelte', import.meta.url))
const output = new URL('../../dist/svelte/', import.meta.url)

beforeAll(() => GlobalRegistrator.register())
afterAll(() => GlobalRegistrator.unregister())

function compiled(generate: 'client' | 'server'): URL {
  const result = compile(readFileSync(source, 'utf8'), { filename: source, generate, runes: true })
  expect(result.warnings.map((w) => w.message)).toEqual([])
  mkdirSync(output, { recursive: true })
  const file = new URL(`VoteCount.${generate}.js`, output)
  writeFileSync(file, result.js.code)
  return file
}

interface BrowserBundle extends Pick<typeof import('svelte'), 'flushSync' | 'mount' | 'unmount'> {
  readonly VoteCount: Component<{ client: FatesClient }>
}

async function browserBundle(): Promise<BrowserBundle> {
  compiled('client')
  const entry = new URL('entry.js', output)
  writeFileSync(entry, "export { flushSync, mount, unmount } from 'svelte'\nexport { default as VoteCount } from './VoteCount.client.js'\n")
  const bundle = new URL('bundle.js', output)
  await build({
    entryPoints: [fileURLToPath(entry)],
    outfile: fileURLToPath(bundle),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // One rxjs and one core, shared with this test (as an app has).
    external: ['rxjs', '@fates-rx/core'],
    logLevel: 'error',
  })
  return (await import(/* @vite-ignore */ bundle.href)) as BrowserBundle
}

describe('examples/svelte', () => {
  it('renders the latest vote count from an observable used as a store, and unsubscribes on unmount', async () => {
    const { mount, unmount, flushSync, VoteCount } = await browserBundle()
    const event$ = new Subject<ReceivedEvent>()
    const target = document.createElement('div')
    const component = mount(VoteCount, { target, props: { client: fakeClient({ event$ }) } })
    flushSync()
    expect(target.textContent).toBe('No votes yet')

    event$.next(receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 })))
    flushSync()
    expect(target.textContent).toBe('57 votes')

    await unmount(component)
    expect(event$.observed).toBe(false)
  })

  // A wrong token stops the client for good (`failed`, no retry): say so, not "No votes yet".
  it('says why a client that failed is not connected, and keeps the token out', async () => {
    const { mount, unmount, flushSync, VoteCount } = await browserBundle()
    const token = 'wrong-secret-token'
    const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token, WebSocket: server.WebSocket })
    const target = document.createElement('div')
    const component = mount(VoteCount, { target, props: { client } })
    await vi.waitFor(() => {
      flushSync()
      expect(target.textContent).toMatch(/^Not connected: .*invalid_auth/)
    })
    expect(target.innerHTML).not.toContain(token)
    expect(server.sockets).toHaveLength(1)
    await unmount(component)
  })

  it('compiles for server rendering too', async () => {
    const { render } = await import('svelte/server')
    const file = compiled('server')
    const VoteCount = ((await import(/* @vite-ignore */ file.href)) as { default: Component<{ client: FatesClient }> }).default
    const html = render(VoteCount, { props: { client: fakeClient() } }).body
    expect(html).toContain('No votes yet')
  })
})
