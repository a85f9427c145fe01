// A viewer that stops reading must cost the server a bounded amount of memory, and nobody else
// anything: over real sockets, with large events, a paused reader is closed (1008) once more
// than `maxQueuedBytes` wait for it, and the memory it held is freed.
import type { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { identified, RecordedBot, segments, type TestClient } from './harness.js'
import { startTestServer } from './harness.js'
import { startServer } from '../start.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap and buffers in use after a full collection, in bytes. */
function retained(): number {
  gc()
  gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  return heapUsed + arrayBuffers
}

const botChannel = `bot-${RecordedBot.id}`
const MiB = 1024 * 1024

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

const socketOf = (client: TestClient): Socket => (client.ws as unknown as { _socket: Socket })._socket

/** Events (`ctx.n`) received by `client` so far. */
const received = (client: TestClient): number[] =>
  client.frames.flatMap((frame) =>
    segments(frame).flatMap((segment) => {
      const parsed = JSON.parse(segment) as { code?: string; dat?: { ctx?: { n?: number } } }
      return parsed.code === 'event' && typeof parsed.dat?.ctx?.n === 'number' ? [parsed.dat.ctx.n] : []
    }),
  )

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('a viewer that stops reading', () => {
  it('is closed with 1008 past the byte limit, the others get every event, and the memory is freed', async () => {
    const lines: string[] = []
    const limit = 4 * MiB
    // history 1: the store itself keeps (almost) nothing, so what stays is what connections hold.
    server = await startTestServer({ maxQueuedBytes: limit, history: 1, logger: { info: (l) => lines.push(l), error: (l) => lines.push(l) } })
    const healthy = (await identified(server)).client
    const paused = (await identified(server)).client
    const resumes = (await identified(server)).client
    clients.push(healthy, paused, resumes)
    socketOf(paused).pause()
    socketOf(resumes).pause()
    const baseline = retained()

    const padding = 'x'.repeat(500 * 1024)
    const total = 80 // 40 MB in all: ten times the limit
    const overflow = `cannot keep up (over ${limit} bytes queued): closed with 1008`
    let resumed = false
    for (let n = 0; n < total; n++) {
      await server.publish(botChannel, { m: { e: 16 }, ctx: { user: '1', n, padding } })
      // A turn between events, as a live stream has: the writers flush.
      await new Promise((resolve) => setImmediate(resolve))
      // One slow reader reads again as soon as it is closed: it gets what was already on its
      // way, then the close frame.
      if (!resumed && lines.includes(`#3 ${overflow}`)) {
        resumed = true
        socketOf(resumes).resume()
      }
    }
    await until(() => lines.filter((line) => line.endsWith(overflow)).length === 2, 'both slow readers to be closed')
    expect(resumed).toBe(true)
    expect(await resumes.closed).toEqual({ code: 1008, reason: `Send queue over ${limit} bytes: reading too slowly` })
    expect(received(resumes).length).toBeLessThan(total)

    await until(() => received(healthy).length === total, 'the healthy viewer to get every event')
    expect(received(healthy)).toEqual(Array.from({ length: total }, (_, n) => n))
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN)
    // The one that never reads again is dropped after the linger, without waiting for its close.
    await until(() => server!.server.connections === 1, 'the paused viewer to be dropped', 5_000)

    // The test's own clients keep every frame they received: let go of them before measuring.
    healthy.frames.splice(0)
    resumes.frames.splice(0)
    // What the slow readers held (up to 2 × 4 MiB of events, and their sockets' buffers) is
    // gone; without the limit they would hold all 40 MB each.
    expect(retained() - baseline).toBeLessThan(6 * MiB)
  })

  it('on a relay: a paused viewer is closed, the healthy viewer gets every event from the upstream', async () => {
    const origin = await startTestServer({ history: 1 })
    const lines: string[] = []
    const viewerToken = 'public-viewer-token'
    const relay = await startServer({
      host: '127.0.0.1',
      port: 0,
      history: 1,
      maxQueuedBytes: 4 * MiB,
      bots: [{ id: RecordedBot.id, token: viewerToken }],
      relay: { upstream: origin.url, bots: [{ id: RecordedBot.id, token: RecordedBot.token }] },
      logger: { info: (l) => lines.push(l), error: (l) => lines.push(l) },
    })
    try {
      const healthy = (await identified(relay, { token: viewerToken })).client
      const paused = (await identified(relay, { token: viewerToken })).client
      clients.push(healthy, paused)
      socketOf(paused).pause()
      // The upstream is live once the relay's core client identified: wait for its word.
      await until(() => healthy.frames.some((frame) => frame.includes('"code":"upstream_live"')), 'the upstream to be live')
      const padding = 'x'.repeat(500 * 1024)
      const total = 40
      for (let n = 0; n < total; n++) {
        await origin.publish(botChannel, { m: { e: 16 }, ctx: { user: '1', n, padding } })
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      await until(() => received(healthy).length === total, 'the healthy viewer to get every event', 30_000)
      expect(received(healthy)).toEqual(Array.from({ length: total }, (_, n) => n))
      expect(lines.some((line) => line.endsWith(`cannot keep up (over ${4 * MiB} bytes queued): closed with 1008`))).toBe(true)
      await until(() => relay.server.connections === 1, 'the paused viewer to be dropped', 5_000)
    } finally {
      await relay.close()
      await origin.close()
    }
  })
})
