// Exact recovery over real sockets: a client that sends the position of the last event it got
// (`after`) is replayed only what followed it, and told so in a `resume` payload; a position
// the server cannot vouch for gets the whole history and the reason.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ResumeCode } from '@fates-rx/core/protocol'
import type { RunningServer } from '../start.js'
import { backends, identified, RecordedBot, segments, startTestServer, type TestClient } from './harness.js'

const bot = `bot-${RecordedBot.id}`
const event = (n: number) => ({ m: { e: 0, eid: `eid-${n}`, ts: 1_700_000_000 + (n % 2) }, ctx: { user: '1', votes: n } })

interface Payload {
  readonly code?: string
  readonly control?: boolean
  readonly channels?: Record<string, string>
  readonly detail?: string
  readonly dat?: { m: { eid: string; pos?: string } }
}

/** Every payload until `done_prior`, parsed. */
async function untilDonePrior(client: TestClient): Promise<Payload[]> {
  const payloads: Payload[] = []
  while (!payloads.some((p) => p.code === 'done_prior')) {
    payloads.push(...segments(await client.next()).map((text) => JSON.parse(text) as Payload))
  }
  return payloads
}

const replayedEids = (payloads: readonly Payload[]): string[] => payloads.filter((p) => p.code === 'event').map((p) => p.dat!.m.eid)

let server: RunningServer | undefined
const clients: TestClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate()
  await server?.close()
  server = undefined
})

describe.each(backends())('exact recovery ($name backend)', (backend) => {
  beforeAll(() => backend.setup())
  afterAll(() => backend.teardown())

  /** Publishes `n` events to the bot's channel and returns each one's m.pos, by eid. */
  async function publish(numbers: readonly number[]): Promise<Map<string, string>> {
    for (const n of numbers) await server!.publish(bot, event(n))
    const { client } = await identified(server!, { send_all: true, send_none: true })
    clients.push(client)
    const positions = new Map<string, string>()
    for (const p of await untilDonePrior(client)) if (p.code === 'event') positions.set(p.dat!.m.eid, p.dat!.m.pos!)
    return positions
  }

  it('replays only what followed the position, in the order stored, after ready and a resume payload saying exact', async () => {
    server = await startTestServer({ donePriorDelayMs: 20 }, backend)
    const positions = await publish([1, 2, 3, 4, 5])
    const { client, ready } = await identified(server, { send_all: true, after: { [bot]: positions.get('eid-2') } })
    clients.push(client)
    expect(JSON.parse(ready).code).toBe('ready')
    const payloads = await untilDonePrior(client)
    const resume = payloads[0]!
    expect(resume).toMatchObject({ code: ResumeCode, control: true, channels: { [bot]: 'exact', global: 'none' } })
    expect(replayedEids(payloads)).toEqual(['eid-3', 'eid-4', 'eid-5'])
  })

  it('replays the whole history, by m.ts, when the position is not of this store (another epoch, beyond the newest)', async () => {
    server = await startTestServer({ donePriorDelayMs: 20 }, backend)
    const positions = await publish([1, 2, 3])
    const epoch = positions.get('eid-1')!.split(':')[0]!
    for (const [after, reason] of [
      ['zz9:2', 'epoch'],
      [`${epoch}:9`, 'ahead'],
    ] as const) {
      const { client } = await identified(server, { send_all: true, after: { [bot]: after, global: after } })
      clients.push(client)
      const payloads = await untilDonePrior(client)
      expect(payloads[0]).toMatchObject({ code: ResumeCode, channels: { [bot]: reason } })
      expect(replayedEids(payloads).sort()).toEqual(['eid-1', 'eid-2', 'eid-3'])
    }
  })

  it('says too-old when the history was trimmed past the position', async () => {
    server = await startTestServer({ donePriorDelayMs: 20, history: 2 }, backend)
    const positions = await publish([1, 2, 3, 4])
    const epoch = positions.get('eid-3')!.split(':')[0]!
    const { client } = await identified(server, { send_all: true, after: { [bot]: `${epoch}:1` } })
    clients.push(client)
    const payloads = await untilDonePrior(client)
    expect(payloads[0]).toMatchObject({ code: ResumeCode, channels: { [bot]: 'too-old' } })
    // The whole (trimmed) history, in m.ts order: the client filters it as against the original.
    expect(replayedEids(payloads)).toEqual(['eid-4', 'eid-3'])
  })

  it('refuses a hostile after with invalid_payload and 4004, naming none of it', async () => {
    server = await startTestServer({}, backend)
    const { client, ready } = await identified(server, { after: { [bot]: 'x'.repeat(200) } })
    expect(JSON.parse(ready)).toMatchObject({ code: 'invalid_payload', detail: 'invalid after: a position is "<epoch>:<offset>"' })
    expect((await client.closed).code).toBe(4004)
  })

  it('with positions: false, ignores after and sends neither m.pos nor a resume payload, as the original', async () => {
    server = await startTestServer({ donePriorDelayMs: 20, positions: false }, backend)
    await server.publish(bot, event(1))
    const { client } = await identified(server, { send_all: true, after: { [bot]: 'abc:1', junk: 7 } })
    clients.push(client)
    const payloads = await untilDonePrior(client)
    expect(payloads.map((p) => p.code)).toEqual(['event', 'done_prior'])
    expect(payloads[0]!.dat!.m.pos).toBeUndefined()
  })
})

describe('exact recovery metrics', () => {
  const adminToken = 'admin-token-for-resume-metrics'
  /** The value of one sample line (`name{labels} value`), or undefined when absent. */
  const sample = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }

  it('counts resumes by exactness, positions ignored and events replayed', async () => {
    server = await startTestServer({ donePriorDelayMs: 20, adminToken })
    for (const n of [1, 2, 3]) await server.publish(bot, event(n))
    const first = await identified(server, { send_all: true, send_none: true })
    clients.push(first.client)
    const positions = new Map((await untilDonePrior(first.client)).filter((p) => p.code === 'event').map((p) => [p.dat!.m.eid, p.dat!.m.pos!]))
    const resumed = await identified(server, { send_all: true, after: { [bot]: positions.get('eid-2'), global: 'other:1' } })
    clients.push(resumed.client)
    await untilDonePrior(resumed.client)
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })
    const text = await response.text()
    expect(sample(text, 'fates_resumes_total{exact="true"}')).toBe(1)
    expect(sample(text, 'fates_resumes_total{exact="false"}')).toBe(1)
    expect(sample(text, 'fates_resume_positions_ignored_total')).toBe(1)
    // Three for the first send_all, one (eid-3) for the exact resume.
    expect(sample(text, 'fates_events_replayed_total')).toBe(4)
  })
})
