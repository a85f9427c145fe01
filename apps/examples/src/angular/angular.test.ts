import { fileURLToPath } from 'node:url'
import { GlobalRegistrator } from '@happy-dom/global-registrator'
import { connect, EventName, type ReceivedEvent } from '@fates-rx/core'
import { fakeClient, fatesEvent, receivedEvent, rejectIdentify, scriptedWebSockets } from '@fates-rx/core/testing'
import { Subject } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type * as Component from './vote-count.component.js'

// The component is compiled ahead of time by the Angular compiler (ngc, strictTemplates: the
// template is type-checked against the component), then the compiled output is bootstrapped
// into happy-dom's document, zoneless, as an app would run it.
const project = fileURLToPath(new URL('./tsconfig.json', import.meta.url))
const compiled = new URL('../../dist/angular/vote-count.component.js', import.meta.url)

// The part of @angular/compiler-cli's API used here. Its own .d.ts files re-export through
// extension-less relative paths, which NodeNext resolution does not follow.
interface AngularCompiler {
  readConfiguration(project: string): { rootNames: string[]; options: object }
  performCompilation(input: { rootNames: string[]; options: object }): { diagnostics: readonly unknown[] }
  formatDiagnostics(diagnostics: readonly unknown[]): string
}

beforeAll(async () => {
  const { performCompilation, readConfiguration, formatDiagnostics } = (await import('@angular/compiler-cli')) as unknown as AngularCompiler
  const config = readConfiguration(project)
  const { diagnostics } = performCompilation({ rootNames: config.rootNames, options: config.options })
  expect(formatDiagnostics(diagnostics)).toBe('')
  GlobalRegistrator.register()
}, 60_000)
afterAll(() => GlobalRegistrator.unregister())

describe('examples/angular', () => {
  it('renders the latest vote count through the async pipe and unsubscribes when destroyed', async () => {
    const { FATES_CLIENT, VoteCountComponent } = (await import(/* @vite-ignore */ compiled.href)) as typeof Component
    const { provideZonelessChangeDetection } = await import('@angular/core')
    const { bootstrapApplication } = await import('@angular/platform-browser')
    document.body.innerHTML = '<vote-count></vote-count>'
    const event$ = new Subject<ReceivedEvent>()
    const app = await bootstrapApplication(VoteCountComponent, {
      providers: [provideZonelessChangeDetection(), { provide: FATES_CLIENT, useValue: fakeClient({ event$ }) }],
    })
    expect(document.body.textContent?.trim()).toBe('No votes yet')
    expect(event$.observed).toBe(true)

    event$.next(receivedEvent(fatesEvent(EventName.BotVote, { user: '1', votes: 57 })))
    await app.whenStable()
    expect(document.body.textContent?.trim()).toBe('57 votes')

    app.destroy()
    expect(event$.observed).toBe(false)
  })

  // A wrong token stops the client for good (`failed`, no retry): say so, not "No votes yet".
  it('says why a client that failed is not connected, and keeps the token out', async () => {
    const { FATES_CLIENT, VoteCountComponent } = (await import(/* @vite-ignore */ compiled.href)) as typeof Component
    const { provideZonelessChangeDetection } = await import('@angular/core')
    const { bootstrapApplication } = await import('@angular/platform-browser')
    document.body.innerHTML = '<vote-count></vote-count>'
    const token = 'wrong-secret-token'
    const server = scriptedWebSockets([rejectIdentify('invalid_auth')])
    const client = connect({ url: 'ws://127.0.0.1:9/ws', id: '811073947382579200', token, WebSocket: server.WebSocket })
    const app = await bootstrapApplication(VoteCountComponent, {
      providers: [provideZonelessChangeDetection(), { provide: FATES_CLIENT, useValue: client }],
    })
    await vi.waitFor(async () => {
      await app.whenStable()
      expect(document.body.textContent?.trim()).toMatch(/^Not connected: .*invalid_auth/)
    })
    expect(document.body.innerHTML).not.toContain(token)
    expect(server.sockets).toHaveLength(1)
    app.destroy()
  })
})
