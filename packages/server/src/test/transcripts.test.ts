// The recorded sessions with the original server, replayed against ours: every frame compared
// byte for byte with control `ts` normalised. Where ours deliberately differs (it never echoes a
// token and never loses an error payload), the table below says so, and that is asserted too.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import {
  backends,
  fixture,
  normalizeTs,
  RecordedBot,
  RecordedServer,
  startTestServer,
  TestClient,
  type RecordedEntry,
} from './harness.js'

/** A control payload as ours sends it, ts normalised. */
const control = (code: string, detail: string, remaining: number): string =>
  `{"code":"${code}","detail":${JSON.stringify(detail)},"ts":0,"requests_remaining":${remaining},"control":true}`

/** Where ours differs from a recording, per connection. */
interface Difference {
  /** The error payload the recording lost to the original's race; ours always sends it. */
  readonly payloadBeforeClose?: string
  /** A received frame whose text differs (the original echoed the token). */
  readonly recv?: string
}

const Differences: Readonly<Record<string, Readonly<Record<string, Difference>>>> = {
  f: {
    'empty-token': {
      recv: control('invalid_payload', `Invalid ID or token sent. Got ID of ${RecordedBot.id}`, -1),
    },
  },
  g: {
    'id-abc': {
      payloadBeforeClose: control('invalid_payload', 'strconv.Atoi: parsing "abc": invalid syntax', -1),
    },
    'id-0': { recv: control('invalid_payload', 'Invalid ID or token sent. Got ID of 0', -1) },
    'id-neg': { recv: control('invalid_payload', 'Invalid ID or token sent. Got ID of -5', -1) },
  },
  h: {
    'identify#11': { payloadBeforeClose: control('ratelimited', 'Past max requests that can be sent (22)', -2) },
    'identify#12': { payloadBeforeClose: control('ratelimited', 'Past max requests that can be sent (24)', -4) },
  },
}

/** The channel a recorder's note published to. */
const noteChannel = (note: RecordedEntry): string =>
  note.text?.includes('server channel') === true ? `server-${RecordedServer.id}` : `bot-${RecordedBot.id}`

/** Publishes what a recorder's note says it published (`{"<eid>": event}`), eids kept. */
async function publishNote(server: RunningServer, note: RecordedEntry): Promise<void> {
  if (note.published === undefined) return
  for (const event of Object.values(JSON.parse(note.published) as Record<string, unknown>)) {
    await server.publish(noteChannel(note), event)
  }
}

/** Replays one connection of a recording and asserts every frame and the close. */
async function replay(server: RunningServer, entries: readonly RecordedEntry[], difference: Difference = {}): Promise<void> {
  let client: TestClient | undefined
  let lastWasSend = false
  for (const entry of entries) {
    switch (entry.kind) {
      case 'open':
        client = await TestClient.open(server.url)
        break
      case 'send':
        client?.send(entry.raw ?? '')
        break
      case 'recv': {
        const frame = await client!.next()
        const expected = lastWasSend && difference.recv !== undefined ? difference.recv : normalizeTs(entry.raw ?? '')
        expect(normalizeTs(frame)).toBe(expected)
        break
      }
      case 'note':
        await publishNote(server, entry)
        break
      case 'client_close':
        client!.ws.close(entry.code ?? 1000)
        break
      case 'close': {
        if (lastWasSend && difference.payloadBeforeClose !== undefined) {
          expect(normalizeTs(await client!.next())).toBe(difference.payloadBeforeClose)
        }
        const closed = await client!.closed
        expect(closed).toEqual({ code: entry.code, reason: entry.reason })
        expect(client!.unread).toEqual([])
        break
      }
      default:
        break
    }
    lastWasSend = entry.kind === 'send'
  }
}

/** The connections of a recording, in the order they first appear. */
const connections = (entries: readonly RecordedEntry[]): (string | undefined)[] => [
  ...new Set(entries.filter((e) => e.kind !== 'note').map((e) => e.conn)),
]

describe.each(backends())('transcripts of the original server ($name backend)', (backend) => {
  beforeAll(() => backend.setup())
  afterAll(() => backend.teardown())
  let server: RunningServer | undefined
  afterEach(async () => {
    await server?.close()
    server = undefined
  })

  // One server per recording: its connections ran in order against one Redis (h and i count
  // on the ratelimit counter that the earlier connections left behind).
  it.each([
    ['a', 'connect: the identity payload'],
    ['e', 'unparsable identifies → invalid_payload, 4004'],
    ['f', 'wrong token / wrong kind → invalid_auth, 4004'],
    ['g', 'bad ids and an empty token → invalid_payload, 4004'],
    ['h', 'repeated identifies until ratelimited (22), 4012'],
    ['i', 'messages after identify until ratelimited (21), 4012'],
    ['k', 'a server (guild) identity on server-<id>'],
  ])('recording %s (%s) matches frame for frame', async (name) => {
    const entries = fixture(name)
    server = await startTestServer({ positions: false }, backend)
    for (const conn of connections(entries)) {
      const own = entries.filter((e) => e.conn === conn || (e.kind === 'note' && conn === undefined))
      await replay(server, own, Differences[name]?.[conn ?? ''])
    }
  })
})
