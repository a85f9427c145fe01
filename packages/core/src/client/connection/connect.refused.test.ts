import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { filter, firstValueFrom } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { MaxRefusedUpgrades, RefusalWhy, SlowRetry } from '../../protocol/index.js'
import { connect } from './connect.js'
import type { ConnectionStatus } from './status.js'

// A wrong URL must not look like network loss: what the socket knows reaches status$, and an
// upgrade the server refuses with an HTTP 4xx stops the client after a few attempts. Real
// sockets on loopback.

const id = '811073947382579200'
const token = 'refused-secret'
const fast = { initialDelayMs: 1, maxDelayMs: 5 }

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
})

/** An HTTP server that answers every websocket upgrade with `status`, as a wrong path would. */
async function refusing(status: number): Promise<{ url: string; upgrades: () => number }> {
  let upgrades = 0
  server = createServer()
  server.on('upgrade', (_request, socket) => {
    upgrades++
    // ws aborts the handshake on such an answer: this side may see the reset.
    socket.on('error', () => undefined)
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/wrong`, upgrades: () => upgrades }
}

describe('connect(): what the socket knows of a failure', () => {
  it(`fails after ${MaxRefusedUpgrades} upgrades refused with HTTP 400, saying so, and tries no more`, async () => {
    const { url, upgrades } = await refusing(400)
    const client = connect({ url, id, token, backoff: fast })
    const statuses: ConnectionStatus[] = []
    const sub = client.status$.subscribe((status) => statuses.push(status))
    const failed = await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'failed')))
    expect(failed.detail).toMatch(new RegExp(`Gave up after ${MaxRefusedUpgrades} refused upgrades in a row: check the url`))
    expect(failed.detail).toContain('HTTP 400')
    // Before giving up, each retry said what happened.
    const retries = statuses.filter((s) => s.state === 'reconnecting')
    expect(retries).toHaveLength(MaxRefusedUpgrades - 1)
    for (const retry of retries) expect(retry.detail).toContain('The server answered the upgrade with HTTP 400.')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(upgrades()).toBe(MaxRefusedUpgrades)
    expect(JSON.stringify(statuses)).not.toContain(token)
    sub.unsubscribe()
  })

  it.each([408, 429] as const)('keeps retrying an HTTP %i refusal on the usual backoff (a blip, not a wrong url), saying why', async (status) => {
    const { url, upgrades } = await refusing(status)
    const client = connect({ url, id, token, backoff: fast })
    const statuses: ConnectionStatus[] = []
    const sub = client.status$.subscribe((s) => statuses.push(s))
    while (upgrades() < MaxRefusedUpgrades + 2) await new Promise((resolve) => setTimeout(resolve, 10))
    sub.unsubscribe()
    expect(statuses.some((s) => s.state === 'failed')).toBe(false)
    const retry = statuses.find((s) => s.state === 'reconnecting')
    expect(retry?.detail).toContain(RefusalWhy.retry)
    expect(retry?.detail).toContain(`HTTP ${status}`)
  })

  it.each([401, 403, 404] as const)('retries an HTTP %i refusal slowly (minutes, not the backoff), saying so, and never fails', async (status) => {
    const { url, upgrades } = await refusing(status)
    const client = connect({ url, id, token, backoff: fast })
    const retry = await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'reconnecting')))
    expect(retry.delayMs).toBeGreaterThanOrEqual(SlowRetry.minMs)
    expect(retry.delayMs).toBeLessThanOrEqual(2 * SlowRetry.minMs)
    expect(retry.detail).toContain(RefusalWhy['slow-retry'])
    expect(retry.detail).toMatch(new RegExp(`HTTP ${status}\\..* Connecting again in \\d+ s\\.$`))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(upgrades()).toBe(1)
    client.close()
  })

  it('keeps retrying an HTTP 5xx answer (a server in trouble, not a wrong url), saying why', async () => {
    const { url, upgrades } = await refusing(502)
    const client = connect({ url, id, token, backoff: fast })
    const statuses: ConnectionStatus[] = []
    const sub = client.status$.subscribe((status) => statuses.push(status))
    while (upgrades() < MaxRefusedUpgrades + 2) await new Promise((resolve) => setTimeout(resolve, 10))
    sub.unsubscribe()
    expect(statuses.some((s) => s.state === 'failed')).toBe(false)
    expect(statuses.find((s) => s.state === 'reconnecting')?.detail).toContain('HTTP 502')
  })

  it('says the connection was refused when nothing listens', async () => {
    const probe = createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const { port } = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const client = connect({ url: `ws://127.0.0.1:${port}/ws`, id, token, backoff: { initialDelayMs: 60_000 } })
    const retry = await firstValueFrom(client.status$.pipe(filter((s) => s.state === 'reconnecting')))
    expect(retry.close?.code).toBe(1006)
    expect(retry.detail).toMatch(/The socket reported: .*ECONNREFUSED/)
    client.close()
  })
})
