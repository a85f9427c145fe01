import type { IncomingMessage, ServerResponse } from 'node:http'
import { defineConfig, type Plugin } from 'vite'

/**
 * Serves `/demo-target.json` from the `FATES_RX_DEMO_TARGET` environment variable (JSON:
 * `{ url, kind, id, token, autoConnect? }`) when it is set, so that `pnpm start` and the
 * end-to-end tests can prefill the first panel without putting a token in a URL or the bundle.
 */
function demoTarget(): Plugin {
  const serve = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const body = process.env['FATES_RX_DEMO_TARGET']
    if (req.url?.split('?')[0] !== '/demo-target.json' || body === undefined || body === '') return next()
    res.setHeader('Content-Type', 'application/json')
    res.setHeader('Cache-Control', 'no-store')
    res.end(body)
  }
  return {
    name: 'fates-rx-demo-target',
    configureServer: (server) => void server.middlewares.use(serve),
    configurePreviewServer: (server) => void server.middlewares.use(serve),
  }
}

export default defineConfig({
  plugins: [demoTarget()],
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  build: { target: 'es2022', sourcemap: true },
  // The SharedWorker (src/fates-worker.ts) as an ES module: the client in it loads chunks of its
  // own (persist, the ctx check), which Vite's default worker format (iife) cannot split into.
  worker: { format: 'es' },
})
