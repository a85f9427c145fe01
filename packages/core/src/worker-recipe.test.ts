import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { MessageChannel } from 'node:worker_threads'
import { startServer } from '@fates-rx/server'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'

// The README's esbuild recipe, built as an app would build it (two entry points: the app and
// the worker script, for the browser, with code splitting), and the worker script then run:
// given a port as a SharedWorker's `connect` event gives it, it must join a target on the real
// server and answer with the live status. (Vite's recipe is the dashboard's, tested by its specs.)
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const recipe = join(packageDir, 'fixtures', 'worker-recipe')
const out = mkdtempSync(join(tmpdir(), 'fates-worker-recipe-'))
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('the esbuild recipe for shareAcrossTabs: { worker }', () => {
  it('bundles the app and the worker script, and the worker script serves a port', async () => {
    const result = await build({
      entryPoints: [join(recipe, 'app.js'), join(recipe, 'fates-worker.js')],
      absWorkingDir: packageDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      splitting: true,
      outdir: out,
      metafile: true,
      logLevel: 'silent',
    })
    const outputs = Object.keys(result.metafile.outputs)
    expect(outputs.some((path) => path.endsWith('fates-worker.js'))).toBe(true)
    expect(outputs.some((path) => path.endsWith('app.js'))).toBe(true)

    const id = '811073947382579200'
    const token = 'recipe-secret-token'
    const server = await startServer({ host: '127.0.0.1', port: 0, bots: [{ id, token }] })
    const { port1, port2 } = new MessageChannel()
    const scope = globalThis as { onconnect?: (event: { ports: unknown[] }) => void; WebSocket?: unknown }
    const hadWebSocket = 'WebSocket' in scope
    // The browser's WebSocket, which the browser bundle expects (Node 20 has none).
    scope.WebSocket ??= WebSocket
    try {
      await import(pathToFileURL(join(out, 'fates-worker.js')).href)
      expect(typeof scope.onconnect).toBe('function')
      const hubPort = { postMessage: (message: unknown) => port1.postMessage(message), onmessage: null as ((event: { data: unknown }) => void) | null }
      port1.on('message', (data: unknown) => hubPort.onmessage?.({ data }))
      scope.onconnect?.({ ports: [hubPort] })
      const received: Array<{ type: string; items?: unknown[] }> = []
      port2.on('message', (data: { type: string }) => received.push(data))
      port2.postMessage({ type: 'join', name: 'fates-rx:1:recipe', options: { url: server.url, id, token, bot: true, sendAll: false, sendNone: false, resume: true } })
      const live = (): boolean => received.some((m) => m.type === 'out' && (m.items ?? []).some((item) => (item as [string, { state?: string }])[1]?.state === 'live'))
      for (let i = 0; i < 500 && !live(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(received[0]?.type).toBe('welcome')
      expect(live()).toBe(true)
      port2.postMessage({ type: 'leave' })
      await new Promise((resolve) => setTimeout(resolve, 50))
    } finally {
      port1.close()
      port2.close()
      delete scope.onconnect
      if (!hadWebSocket) delete scope.WebSocket
      await server.close()
    }
  })
})
