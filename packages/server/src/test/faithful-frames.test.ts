// Where ours differed from the original's source on the wire (paul-brtd/FatesList,
// modules/infra/dragon/webserver/client.go): frames, the close's echo, Go's JSON.
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { EventFramePattern, identified, RecordedBot, segments, startTestServer, type TestClient } from './harness.js'

const botChannel = `bot-${RecordedBot.id}`
/** The original's writer: the event it took, plus every one waiting in its 256-slot `send` channel. */
const OriginalMaxEventsPerFrame = 1 + 256

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

const vote = (n: number) => ({ m: { e: 0, eid: `e-${n}`, ts: 1_700_000_000 + n, t: -1 }, ctx: { user: `${n}`, votes: n, test: false } })

/** Reads event frames until `count` events arrived (control frames, e.g. done_prior, skipped). */
async function eventFrames(client: TestClient, count: number): Promise<string[]> {
  const frames: string[] = []
  let seen = 0
  while (seen < count) {
    const frame = await client.next()
    if (frame.includes('"control":true')) continue
    expect(frame).toMatch(EventFramePattern)
    frames.push(frame)
    seen += segments(frame).length
  }
  return frames
}

describe('frames hold at most 257 events, as the original writer batched them', () => {
  it('a send_all replay of 300 stored events', async () => {
    server = await startTestServer({ positions: false, donePriorDelayMs: 50 })
    for (let n = 1; n <= 300; n++) await server.publish(botChannel, vote(n))
    const { client } = await identified(server, { send_all: true })
    clients.push(client)
    const frames = await eventFrames(client, 300)
    expect(Math.max(...frames.map((f) => segments(f).length))).toBeLessThanOrEqual(OriginalMaxEventsPerFrame)
    expect(frames.flatMap(segments)).toHaveLength(300)
  })

  it('a live burst of 300 events published in one turn', async () => {
    server = await startTestServer({ positions: false })
    const { client } = await identified(server)
    clients.push(client)
    await Promise.all(Array.from({ length: 300 }, (_, i) => server!.publish(botChannel, vote(i + 1))))
    const frames = await eventFrames(client, 300)
    expect(Math.max(...frames.map((f) => segments(f).length))).toBeLessThanOrEqual(OriginalMaxEventsPerFrame)
    // Publish order is kept (a documented difference): the frames are split, not reordered.
    expect(frames.flatMap(segments).map((s) => (JSON.parse(s) as { dat: { ctx: { votes: number } } }).dat.ctx.votes)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    )
  })
})

describe('a close the client starts', () => {
  // gorilla's default close handler: FormatCloseMessage(code, "") — the code echoed, no reason.
  it.each([
    [1000, 'bye'],
    [4321, 'going home'],
  ])('is answered with the code %i and an empty reason, as gorilla/websocket answered it', async (code, reason) => {
    server = await startTestServer({ positions: false })
    const { client } = await identified(server)
    client.ws.close(code, reason)
    expect(await client.closed).toEqual({ code, reason: '' })
  })
})

describe('events written as Go 1.18 json.Marshal wrote the map it had decoded', () => {
  it('keeps the sign of a negative zero and sorts keys by UTF-8 bytes', async () => {
    server = await startTestServer({ positions: false })
    const { client } = await identified(server)
    clients.push(client)
    // Go: strconv.AppendFloat(-0, 'f', -1, 64) is "-0"; map keys sorted as Go strings (bytes):
    // "～" (EF BD 9E) before "😀" (F0 9F 98 80), where UTF-16 order puts "😀" (D83D) first.
    await server.publish(botChannel, { m: { e: 0, eid: 'neg-zero', ts: 1, t: -1 }, ctx: { '😀': 2, '～': 1, user: '1', votes: -0 } })
    expect(await client.next()).toBe(
      `{"chan":"${botChannel}","code":"event","control":false,"dat":{"ctx":{"user":"1","votes":-0,"～":1,"😀":2},"m":{"e":0,"eid":"neg-zero","t":-1,"ts":1}},"detail":null}\x1f`,
    )
  })
})
