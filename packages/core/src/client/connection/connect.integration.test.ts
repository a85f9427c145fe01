import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { filter, firstValueFrom, take, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { ControlDetail } from '../../protocol/index.js'
import { connect } from './connect.js'

const id = '811073947382579200'
const token = 'testtoken'
const control = (code: string, detail: string, remaining: number) =>
  JSON.stringify({ code, detail, ts: 1700000000, requests_remaining: remaining, control: true })
const wrapped = (eid: string, ts: number) =>
  JSON.stringify({ chan: `bot-${id}`, code: 'event', control: false, dat: { ctx: { user: '1', votes: 1, test: false }, m: { e: 0, eid, t: -1, ts } }, detail: null })

let server: WebSocketServer | undefined
afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
})

async function listen(onConnection: (socket: WebSocket) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  server.on('connection', onConnection)
  await once(server, 'listening')
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`
}

describe('connect() against a real ws server', () => {
  it('completes the handshake, identifies exactly as the protocol says and delivers a batched frame', async () => {
    const identifies: string[] = []
    const url = await listen((socket) => {
      socket.send(control('identity', ControlDetail.identity, -1))
      socket.once('message', (data) => {
        identifies.push(String(data))
        socket.send(control('ready', ControlDetail.ready(2), 18))
        socket.send(`${wrapped('e1', 1)}\x1f\x1f${wrapped('e2', 2)}\x1f\x1fnot json\x1f\x1f${wrapped('e3', 3)}\x1f`)
      })
    })
    const client = connect({ url, id, token })
    const states: string[] = []
    const statusSub = client.status$.subscribe((status) => states.push(status.state))
    const diagnostic = firstValueFrom(client.diagnostic$)
    const controls = firstValueFrom(client.control$.pipe(take(2), toArray()))
    const events = await firstValueFrom(client.event$.pipe(take(3), toArray()))
    expect(events.map((event) => event.m.eid)).toEqual(['e1', 'e2', 'e3'])
    expect(events[0]).toEqual({ chan: `bot-${id}`, m: { e: 0, eid: 'e1', t: -1, ts: 1 }, ctx: { user: '1', votes: 1, test: false } })
    expect((await controls).map((c) => c.code)).toEqual(['identity', 'ready'])
    expect(await diagnostic).toMatchObject({ kind: 'not-json', raw: 'not json' })
    expect(identifies).toEqual([`{"id":"${id}","token":"${token}","bot":true,"send_all":false,"send_none":false}`])
    expect(states).toEqual(['closed', 'connecting', 'identifying', 'live'])
    const closedByServer = once(server!.clients.values().next().value!, 'close')
    client.close()
    const [code] = (await closedByServer) as [number]
    expect(code).toBe(1000)
    expect(states.at(-1)).toBe('closed')
    statusSub.unsubscribe()
  })

  it('is lazy: no connection before a subscriber, closed when the last one leaves', async () => {
    let connections = 0
    const url = await listen((socket) => {
      connections++
      socket.send(control('identity', ControlDetail.identity, -1))
      socket.once('message', () => socket.send(control('ready', ControlDetail.ready(2), 18)))
    })
    const client = connect({ url, id, token })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(connections).toBe(0)
    const live = firstValueFrom(client.status$.pipe(filter((s) => s.state === 'live')))
    const a = client.event$.subscribe()
    const b = client.control$.subscribe()
    await live
    expect(connections).toBe(1)
    const closed = once(server!.clients.values().next().value!, 'close')
    a.unsubscribe()
    expect(server!.clients.size).toBe(1)
    b.unsubscribe()
    await closed
    expect(connections).toBe(1)
  })

  it('redacts the token from server text and fails on 4004 with the server detail', async () => {
    const url = await listen((socket) => {
      socket.send(control('identity', ControlDetail.identity, -1))
      socket.once('message', () => {
        socket.send(control('invalid_payload', `Invalid ID or token sent. Got ID of ${id} and api token of ${token}`, -1))
        socket.close(4004, `Invalid authentication, try again ${token}`)
      })
    })
    const client = connect({ url, id, token })
    const failed = await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'failed')))
    expect(JSON.stringify(failed)).not.toContain(token)
    expect(failed.detail).toBe(`invalid_payload: Invalid ID or token sent. Got ID of ${id} and api token of [redacted]`)
    expect(failed.close).toMatchObject({ code: 4004, reason: 'Invalid authentication, try again [redacted]' })
    client.close()
  })
})
