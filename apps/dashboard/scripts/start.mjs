#!/usr/bin/env node
// `pnpm start`: the embedded @fates-rx/server with demo traffic and the dashboard's Vite dev
// server, in one process, so that Ctrl-C stops both. The root script builds the packages first.
//
// The first panel is prefilled through `/demo-target.json`, which the Vite config serves from
// FATES_RX_DEMO_TARGET. That variable is set here, inside this process only: the demo token
// travels neither in a URL nor in the bundle.
import { fileURLToPath } from 'node:url'
import { DEMO_BOT, startServer } from '@fates-rx/server'
import { createServer } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))
const serverPort = Number(process.env.FATES_RX_SERVER_PORT ?? 8787)
const appPort = Number(process.env.FATES_RX_APP_PORT ?? 5173)
const demoRate = Number(process.env.FATES_RX_DEMO_RATE ?? 5)

async function startDemoServer() {
  // The original's ratelimit (20 requests per 7 minutes per bot, an identify costs 2), the
  // server's default: the demo must show what users get. The dashboard's tabs share one
  // connection (`shareAcrossTabs`): only the leading tab identifies, so more tabs and reloads
  // of a follower cost nothing; closing or reloading the leader costs one identify.
  const options = { host: '127.0.0.1', bots: [DEMO_BOT], demo: { rate: demoRate } }
  // Set it to publish your own events; it is never printed (a token is not a log line).
  if (process.env.FATES_RX_ADMIN_TOKEN) options.adminToken = process.env.FATES_RX_ADMIN_TOKEN
  try {
    return await startServer({ ...options, port: serverPort })
  } catch (error) {
    if (error?.code !== 'EADDRINUSE') throw error
    return await startServer({ ...options, port: 0 })
  }
}

const server = await startDemoServer()
process.env.FATES_RX_DEMO_TARGET = JSON.stringify({
  url: server.url,
  kind: 'bot',
  id: DEMO_BOT.id,
  token: DEMO_BOT.token,
  autoConnect: true,
})

let vite
try {
  vite = await createServer({
    root,
    configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)),
    server: { port: appPort, strictPort: false },
    clearScreen: false,
  })
  await vite.listen()
} catch (error) {
  await server.close()
  throw error
}

const appUrl = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${appPort}/`
process.stdout.write(
  [
    '',
    `  fates-rx dashboard   ${appUrl}`,
    `  websocket server     ${server.url}   (demo bot ${DEMO_BOT.id}, ${demoRate} events/s)`,
    process.env.FATES_RX_ADMIN_TOKEN
      ? `  publish your own     POST http://127.0.0.1:${server.port}/publish (Bearer $FATES_RX_ADMIN_TOKEN)`
      : '  publish your own     set FATES_RX_ADMIN_TOKEN, then POST /publish (see the README)',
    '',
    '  Press Ctrl-C to stop.',
    '',
  ].join('\n'),
)

let stopping = false
async function stop(signal) {
  if (stopping) return
  stopping = true
  process.stdout.write(`\n  ${signal}: stopping…\n`)
  await Promise.allSettled([vite.close(), server.close()])
  process.exit(0)
}
process.on('SIGINT', () => void stop('SIGINT'))
process.on('SIGTERM', () => void stop('SIGTERM'))
