// End to end: @fates-rx/core's connect() against this server over a real socket.
import { connect } from '@fates-rx/core'
import { filter, firstValueFrom, take, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from '../start.js'
import { RecordedBot, RecordedServer, startTestServer } from './harness.js'

const botChannel = `bot-${RecordedBot.id}`
const vote = (n: number) => ({ m: { e: 0, eid: `eid-${n}`, ts: n, t: -1 }, ctx: { user: '101', votes: n, test: false } })

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('connect() from @fates-rx/core against the server', () => {
  it('replays stored events as prior, goes live after done_prior, then receives live events in order', async () => {
    server = await startTestServer({ donePriorDelayMs: 50 })
    await server.publish(botChannel, vote(1))
    await server.publish('global', { m: { e: 19, eid: 'g-1', ts: 2 }, ctx: { user: null } })
    const client = connect({ url: server.url, id: RecordedBot.id, token: RecordedBot.token, sendAll: true })
    const states: string[] = []
    const statusSub = client.status$.subscribe((status) => states.push(status.state))
    const diagnostics: unknown[] = []
    const diagnosticSub = client.diagnostic$.subscribe((d) => diagnostics.push(d))
    const events = firstValueFrom(client.event$.pipe(take(5), toArray()))
    await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'live')))
    for (const n of [3, 4, 5]) await server.publish(botChannel, vote(n))
    const received = await events
    expect(received.map((e) => [e.m.eid, e.chan, e.prior === true])).toEqual([
      ['eid-1', botChannel, true],
      ['g-1', 'global', true],
      ['eid-3', botChannel, false],
      ['eid-4', botChannel, false],
      ['eid-5', botChannel, false],
    ])
    expect(states).toEqual(['closed', 'connecting', 'identifying', 'replaying', 'live'])
    expect(diagnostics).toEqual([])
    client.close()
    statusSub.unsubscribe()
    diagnosticSub.unsubscribe()
  })

  it('identifies a server (guild) and receives its channel', async () => {
    server = await startTestServer()
    const client = connect({ url: server.url, id: RecordedServer.id, token: RecordedServer.token, bot: false })
    const event = firstValueFrom(client.event$)
    await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'live')))
    await server.publish(`server-${RecordedServer.id}`, { m: { e: 71, eid: 's-1' }, ctx: { user: '1', votes: 1 } })
    expect(await event).toMatchObject({ chan: `server-${RecordedServer.id}`, m: { e: 71, eid: 's-1' } })
    client.close()
  })

  it('fails with the server’s invalid_auth detail on a wrong token, without repeating the token', async () => {
    server = await startTestServer()
    const token = 'definitely-wrong-token'
    const client = connect({ url: server.url, id: RecordedBot.id, token })
    const failed = await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'failed')))
    expect(failed).toMatchObject({
      close: { code: 4004, reason: 'Invalid authentication, try again' },
      detail: 'invalid_auth: no rows in result set',
    })
    expect(JSON.stringify(failed)).not.toContain(token)
    client.close()
  })
})
