/**
 * The server targets of issue 13, each measured against a baseline in the same run:
 * Redis publishing that stays as fast as the history grows (last tenth ÷ first tenth) while
 * another Redis client's PING stays quick; handshakes against a bare `ws` server; and the server's file descriptors after
 * connections it turns away. Batch publishing over HTTP moved to section publish (issue 20).
 *
 * @packageDocumentation
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { connect as tcpConnect, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Redis as RedisClient } from 'ioredis'
import { WebSocket, WebSocketServer } from 'ws'
import { ControlCode } from '@fates-rx/core/protocol'
import { startServer } from '@fates-rx/server'
import type { Row } from '../harness.js'
import { startRedis } from '../redis.js'
import { median, quantile } from '../stats.js'

const botId = '811073947382579200'
const channel = `bot-${botId}`
const vote = (n: number) => ({ m: { e: 0, t: -1 }, ctx: { user: '1', votes: n, test: false } })

/** Options of {@link benchServerTargets}. */
export interface ServerTargetOptions {
  /** Events published through Redis. @default 100000 */
  readonly redisEvents?: number
  /** Handshakes per contender and round. @default 2000 */
  readonly handshakes?: number
  /** Interleaved rounds of the handshake comparison. @default 5 */
  readonly rounds?: number
  /** Turned-away connections that never close. @default 1000 */
  readonly turnedAway?: number
}

/** Runs every server target; one row each. */
export async function benchServerTargets(options: ServerTargetOptions = {}): Promise<Row[]> {
  return [
    await redisPublish(options.redisEvents ?? 100_000),
    await handshakes(options.handshakes ?? 2_000, options.rounds ?? 5),
    await turnedAway(options.turnedAway ?? 1_000),
  ]
}

/** 8 concurrent publishers on one channel through Redis; PINGs from another client meanwhile. */
async function redisPublish(total: number): Promise<Row> {
  const redis = await startRedis()
  const server = await startServer({ port: 0, redis: redis.url, bots: [{ id: botId, token: 't' }] })
  const pinger = new RedisClient(redis.url)
  try {
    const done: number[] = []
    let next = 0
    const publisher = async (): Promise<void> => {
      while (next < total) {
        next++
        await server.publish(channel, vote(next))
        done.push(performance.now())
      }
    }
    const pings: number[] = []
    let pinging = true
    const ping = (async () => {
      while (pinging) {
        const t0 = performance.now()
        await pinger.ping()
        pings.push(performance.now() - t0)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    const t0 = performance.now()
    await Promise.all(Array.from({ length: 8 }, publisher))
    pinging = false
    await ping
    const tenth = Math.floor(total / 10)
    const rateOf = (from: number, to: number): number => (to - from) / (((done[to - 1] as number) - (from === 0 ? t0 : (done[from - 1] as number))) / 1000)
    const first = rateOf(0, tenth)
    const last = rateOf(total - tenth, total)
    const ratio = last / first
    const p99 = quantile(pings, 0.99)
    const met = ratio >= 0.8 && last >= 10_000 && p99 <= 10
    return {
      name: 'server: Redis publish, last tenth vs first tenth',
      eventsPerSecond: Math.round(last),
      ratio: Math.round(ratio * 1000) / 1000,
      baseline: 'the same run’s first tenth',
      params: { events: total, publishers: 8, history: 1000 },
      metrics: { firstTenthPerSecond: Math.round(first), pingP99Ms: Math.round(p99 * 100) / 100, pings: pings.length },
      target: { text: 'last tenth ≥ 0.8 × first, ≥ 10,000/s; PING p99 ≤ 10 ms', met },
    }
  } finally {
    pinger.disconnect()
    await server.close()
    await redis.close()
  }
}

/** All the bare server's handshake says: the measure is the `ws` upgrade. */
const BareIdentity = JSON.stringify({ code: ControlCode.Identity })

/** Opens `count` connections, 16 at a time, each until its first message; resolves to handshakes/s. */
async function handshakeRate(url: string, count: number): Promise<number> {
  let started = 0
  const t0 = performance.now()
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url)
        ws.once('message', () => {
          ws.terminate()
          resolve()
        })
        ws.once('error', reject)
      })
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  return count / ((performance.now() - t0) / 1000)
}

/** Handshakes (upgrade until the first frame) against a bare `ws` server sending one frame. */
async function handshakes(count: number, rounds: number): Promise<Row> {
  const server = await startServer({ port: 0, bots: [{ id: botId, token: 't' }] })
  const bare = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => bare.once('listening', resolve))
  bare.on('connection', (ws) => ws.send(BareIdentity))
  const bareUrl = `ws://127.0.0.1:${(bare.address() as AddressInfo).port}/ws`
  const ratios: number[] = []
  const rates: number[] = []
  try {
    await handshakeRate(bareUrl, Math.min(200, count))
    await handshakeRate(server.url, Math.min(200, count))
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always meets the other's leftovers.
      const first = round % 2 === 0
      const a = first ? await handshakeRate(bareUrl, count) : 0
      const ours = await handshakeRate(server.url, count)
      const b = first ? a : await handshakeRate(bareUrl, count)
      ratios.push(ours / b)
      rates.push(ours)
    }
  } finally {
    await server.close()
    await new Promise((resolve) => bare.close(resolve))
  }
  const ratio = median(ratios)
  return {
    name: 'server: handshakes vs a bare ws server',
    eventsPerSecond: Math.round(median(rates)),
    ratio: Math.round(ratio * 1000) / 1000,
    baseline: 'bare ws server sending one frame on connect',
    params: { handshakes: count, rounds, concurrency: 16 },
    target: { text: '≥ 90% of bare ws', met: ratio >= 0.9 },
  }
}

/** Connections the server turns away and that never close: its descriptors return to baseline. */
async function turnedAway(count: number): Promise<Row> {
  const entry = fileURLToPath(import.meta.resolve('@fates-rx/server'))
  const headersTimeoutMs = 1_000
  const script = `
    import { startServer } from ${JSON.stringify(entry)}
    const server = await startServer({ port: 0, headersTimeoutMs: ${headersTimeoutMs} })
    console.log(server.port)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const sockets: Socket[] = []
  try {
    const port = Number(await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)))
    const descriptors = (): number => readdirSync(`/proc/${child.pid}/fd`).length
    const baseline = descriptors()
    const requests = ['GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'NOT HTTP\r\n\r\n', 'GET /ws HTTP/1.1\r\nHost: x\r\n']
    for (let n = 0; n < count; n++) {
      const socket = tcpConnect({ port, host: '127.0.0.1', allowHalfOpen: true })
      socket.on('error', () => {})
      socket.once('connect', () => socket.write(requests[n % requests.length] as string))
      sockets.push(socket)
      if (n % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const t0 = performance.now()
    let peak = descriptors()
    let now = peak
    while (now > baseline && performance.now() - t0 < headersTimeoutMs * 5) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      now = descriptors()
      peak = Math.max(peak, now)
    }
    const seconds = (performance.now() - t0) / 1000
    return {
      name: 'server: descriptors after turned-away connections that never close',
      eventsPerSecond: 0,
      ratio: Math.round((now / baseline) * 1000) / 1000,
      baseline: 'descriptors before the connections',
      params: { connections: count, headersTimeoutMs },
      metrics: { baseline, peak, after: now, settledInSeconds: Math.round(seconds * 10) / 10 },
      target: { text: 'back to baseline within the headers timeout (+ checking interval)', met: now <= baseline },
    }
  } finally {
    for (const socket of sockets) socket.destroy()
    child.kill('SIGKILL')
  }
}
