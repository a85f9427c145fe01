// Test support: a recording websocket client, fixture loading and frame normalisation.
import { readFileSync } from 'node:fs'
import { Redis } from 'ioredis'
import { WebSocket, type ClientOptions } from 'ws'
import { startServer, type RunningServer } from '../start.js'
import type { ServerOptions } from '../options.js'
import { startPostgres, startRedis, type PostgresService, type RedisService } from './services.js'

/** The identities of the recorded sessions (packages/core/fixtures/original/README.md). */
export const RecordedBot = { id: '811073947382579200', token: 'testtoken' } as const
export const RecordedServer = { id: '816130947274899487', token: 'servertoken' } as const

/** One entry of a recorded session. */
export interface RecordedEntry {
  readonly kind: 'open' | 'send' | 'recv' | 'ping' | 'client_close' | 'close' | 'note'
  readonly conn?: string
  readonly raw?: string
  readonly code?: number
  readonly reason?: string
  readonly text?: string
  readonly published?: string
  readonly hget_ws?: string
}

/** A recorded session from packages/core/fixtures/original (the repo's copy, not ../shared). */
export function fixture(name: string): RecordedEntry[] {
  const url = new URL(`../../../core/fixtures/original/${name}.json`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')) as RecordedEntry[]
}

/** The entries of one connection of a recorded session, in order. */
export const entriesOf = (entries: readonly RecordedEntry[], conn?: string): RecordedEntry[] =>
  entries.filter((e) => e.conn === conn)

/** Replaces control payloads' `"ts":<seconds>` (the only clock value in them) with 0. */
export const normalizeTs = (frame: string): string =>
  frame.replace(/"ts":\d+,"requests_remaining"/g, '"ts":0,"requests_remaining"')

/** The JSON documents of a frame, split at ASCII 31, empty segments skipped. */
export const segments = (frame: string): string[] => frame.split('\x1f').filter((s) => s !== '')

/** The eids of the events a raw client has received, in order. */
export const eventIds = (client: { readonly frames: readonly string[] }): string[] =>
  client.frames.flatMap((frame) =>
    segments(frame).flatMap((s) => {
      const payload = JSON.parse(s) as { code: string; dat?: { m: { eid: string } } }
      return payload.code === 'event' && payload.dat !== undefined ? [payload.dat.m.eid] : []
    }),
  )

/** Matches a frame built the original's way: `E\x1f` or `E\x1f\x1fE\x1f…`. */
export const EventFramePattern = /^\{[^\x1f]+\}\x1f(?:\x1f\{[^\x1f]+\}\x1f)*$/

/** How a connection ended. */
export interface Closed {
  readonly code: number
  readonly reason: string
}

/** A websocket client that records every frame and lets a test await the next one. */
export class TestClient {
  readonly frames: string[] = []
  readonly pings: number[] = []
  readonly closed: Promise<Closed>
  #read = 0
  #waiters: (() => void)[] = []

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(data.toString('utf8'))
      this.#wake()
    })
    ws.on('ping', () => this.pings.push(Date.now()))
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString('utf8') })
        this.#wake()
      })
    })
    ws.on('error', () => {})
  }

  /** Connects and resolves once open. */
  static async open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options)
    const client = new TestClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return client
  }

  #wake(): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const wake of waiters) wake()
  }

  /** The next frame not yet taken; rejects when the socket closes first. */
  async next(timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const frame = this.frames[this.#read]
      if (frame !== undefined) {
        this.#read++
        return frame
      }
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('closed before the next frame')
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Frames received and not yet taken with {@link next}. */
  get unread(): string[] {
    return this.frames.slice(this.#read)
  }

  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary })
  }

  /** Sends an identify and returns the reply frame. */
  async identify(payload: Record<string, unknown>): Promise<string> {
    this.send(JSON.stringify(payload))
    return this.next()
  }

  close(): Promise<Closed> {
    this.ws.close(1000)
    return this.closed
  }
}

/**
 * Where a test server keeps its state. The protocol tests run once per backend: the same
 * frames must come out whatever the store.
 */
export interface Backend {
  readonly name: string
  /** Starts the services it needs (in `beforeAll`). */
  setup(): Promise<void>
  /** Stops them (in `afterAll`). */
  teardown(): Promise<void>
  /** Empties the state and returns the options of a server with the recorded identities. */
  prepare(): Promise<ServerOptions>
}

/** The in-memory store (the default). */
export const memoryBackend: Backend = {
  name: 'memory',
  async setup() {},
  async teardown() {},
  async prepare() {
    return { bots: [RecordedBot], servers: [RecordedServer] }
  },
}

/** A throwaway redis-server; tokens in memory, or in a throwaway PostgreSQL with `postgres`. */
export function redisBackend(withPostgres: boolean): Backend & { readonly redis: () => RedisService } {
  let redis: RedisService | undefined
  let postgres: PostgresService | undefined
  let admin: Redis | undefined
  return {
    name: withPostgres ? 'redis + postgres' : 'redis',
    redis: () => redis!,
    async setup() {
      redis = await startRedis()
      if (withPostgres) postgres = await startPostgres()
      admin = new Redis(redis.url)
      // It outlives the outage tests' stopped server; its reconnect errors are expected.
      admin.on('error', () => {})
    },
    async teardown() {
      admin?.disconnect()
      await redis?.stop()
      await postgres?.stop()
    },
    async prepare() {
      await admin!.flushall()
      if (postgres === undefined) return { redis: redis!.url, bots: [RecordedBot], servers: [RecordedServer] }
      await postgres.setIdentities([RecordedBot], [RecordedServer])
      return { redis: redis!.url, postgres: postgres.url }
    },
  }
}

/** Every backend, for `describe.each`. */
export const backends = (): Backend[] => [memoryBackend, redisBackend(false), redisBackend(true)]

/** Starts a server on a free loopback port with the recorded sessions' identities. */
export async function startTestServer(options: ServerOptions = {}, backend: Backend = memoryBackend): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, ...(await backend.prepare()), ...options })
}

/** Connects, takes the `identity` frame and identifies as the recorded bot (or `payload`). */
export async function identified(
  server: RunningServer,
  payload: Record<string, unknown> = {},
): Promise<{ client: TestClient; ready: string }> {
  const client = await TestClient.open(server.url)
  await client.next()
  const ready = await client.identify({ id: RecordedBot.id, token: RecordedBot.token, bot: true, ...payload })
  return { client, ready }
}

/** Resolves after `ms` milliseconds: only to prove that nothing arrives. */
export const quietFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 20 ms until it holds, failing after `timeoutMs` with what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await quietFor(20)
  }
}

/** A received payload as the relay's tests read it: a control's code, a resume's channels, an event's position and user. */
export interface ReadPayload {
  readonly code: string
  readonly channels?: Record<string, string>
  readonly dat?: { m: { pos?: string }; ctx: { user: string } }
}

/** Every payload `client` received, in order. */
export const payloadsOf = (client: { readonly frames: readonly string[] }): ReadPayload[] =>
  client.frames.flatMap((frame) => segments(frame).map((segment) => JSON.parse(segment) as ReadPayload))

/** The `ctx.user` of every event `client` received, in order. */
export const usersOf = (client: { readonly frames: readonly string[] }): string[] =>
  payloadsOf(client).flatMap((p) => (p.code === 'event' && p.dat !== undefined ? [p.dat.ctx.user] : []))
