// The test kit's builders (`@fates-rx/core/testing`) against the real server's bytes: what joinFrames(wrapEvent(fatesEvent(…)))
// makes for an event should be the frame the server writes for that event.
import { EventName } from '@fates-rx/core/protocol'
import { fatesEvent, joinFrames, readyPayload, wrapEvent } from '@fates-rx/core/testing'
import { afterEach, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { identified, RecordedBot, startTestServer, type TestClient } from './harness.js'

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

it('ready: the builder makes the server frame, but for ts', async () => {
  server = await startTestServer({ positions: false })
  const { client, ready } = await identified(server)
  clients.push(client)
  const ts = (JSON.parse(ready) as { ts: number }).ts
  expect(ready).toBe(joinFrames(readyPayload(2, { ts })))
})

it.each([
  ['a vote', { user: '1', votes: 57, test: false }],
  ['a review with markup', { user: '1', id: '9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21', star_rating: 4.5, reply: null, review: 'Great <b>5/5</b> & more', upvotes: 0, downvotes: 0, upvote: true }],
  // Go 1.18 wrote \b and \f as \u0008 and \u000c, and sorted keys by their UTF-8 bytes (a key
  // past U+FFFF after U+FFFD): the kit writes with the server's own writer (codec/go-json.ts).
  ['a backspace in a review', { user: '1', id: '9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21', star_rating: 4.5, reply: null, review: 'a\bb\fc', upvotes: 0, downvotes: 0, upvote: true }],
  ['a key past U+FFFF', { user: '1', votes: 57, test: false, '\u{1F600}': 1, '\uFFFD': 2 }],
] as const)('%s: the builder makes the frame the server writes for the same event', async (_, ctx) => {
  server = await startTestServer({ positions: false })
  const { client } = await identified(server)
  clients.push(client)
  const e = 'review' in ctx ? EventName.ReviewVote : EventName.BotVote
  const event = fatesEvent(e as typeof EventName.BotVote, ctx as never, { eid: '00000000-0000-4000-8000-0000000000aa', ts: 1_700_000_000.5 })
  const channel = `bot-${RecordedBot.id}`
  await server.publish(channel, JSON.parse(JSON.stringify(event)))
  const frame = await client.next()
  expect(joinFrames(wrapEvent(event, channel))).toBe(frame)
})
