import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { CloseCode, Protocol } from '@fates-rx/core/protocol'
import { DEMO_BOT, startDemo, type DemoTarget } from './demo.js'
import { httpHandler } from './http.js'
import { createMetrics } from './metrics.js'
import { describe, silentLogger, type Logger } from './log.js'
import { protocolRules, resolveOptions, type ServerOptions } from './options.js'
import { makeServer, type FatesServer } from './protocol/make-server.js'
import { NodeTimers } from './protocol/timers.js'
import { resolveRelay } from './relay/options.js'
import { Relay, type UpstreamReport } from './relay/relay.js'
import { MemoryStore } from './stores/memory.js'
import { PostgresTokens } from './stores/postgres.js'
import { RedisStore, withoutCredentials } from './stores/redis.js'
import { MemoryTokens, type Credentials, type Store, type TokenLookup } from './stores/store.js'
import { useServer } from './use/ws.js'
import { AddressCap } from './address-cap.js'

/** A running server. */
export interface RunningServer {
  /** The websocket URL, `ws://HOST:PORT/ws`. */
  readonly url: string
  /** The port it listens on (the chosen one when `port: 0`). */
  readonly port: number
  /** The host it listens on. */
  readonly host: string
  /** The Bearer token `POST /publish` accepts (generated when not given). */
  readonly adminToken: string
  /** Stores and delivers an event in-process; resolves to its event ID. */
  publish(channel: string, event: unknown): Promise<string>
  /** The protocol logic, for counting connections and other introspection. */
  readonly server: FatesServer
  /** Relay mode: each relayed target's upstream (status, viewers, events); empty for an origin. */
  upstreams(): UpstreamReport[]
  /**
   * Relay mode: retries every failed upstream now (as `SIGHUP` and `POST /admin/upstreams/retry`
   * do); returns the targets retried (empty for an origin, or when none has failed).
   */
  retryUpstreams(): string[]
  /** Closes every connection with 1001, stops listening and releases the store it created. */
  close(): Promise<void>
}

/** The websocket paths served: the Go server's `/ws`, with or without a trailing slash. */
const SocketPaths: ReadonlySet<string> = new Set([Protocol.path, `${Protocol.path}/`])

/**
 * Starts a Fates websocket server: the protocol on `/ws`, `POST /publish` on the same port.
 *
 * @example
 * const server = await startServer({ port: 0, bots: [{ id: '1', token: 'secret' }] })
 * await server.publish('bot-1', { m: { e: 0 }, ctx: { user: '2', votes: 1 } })
 * await server.close()
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const config = resolveOptions(options)
  const logger = options.logger ?? silentLogger
  const demoRequested = options.demo !== undefined && options.demo !== false
  const bots = options.bots ?? []
  const servers = options.servers ?? []
  const useDemoBot = demoRequested && bots.length === 0 && servers.length === 0
  const owned: { close(): Promise<void> }[] = []
  const release = async (): Promise<void> => {
    for (const resource of owned.splice(0).reverse()) await resource.close().catch(() => {})
  }
  // Besides the store's own ping, what must answer for the server to be ready (PostgreSQL's
  // tokens: while it is down every identify is closed with 4500).
  const pings: (() => Promise<void>)[] = []
  let store: Store
  try {
    store = options.store ?? (await ownStore(options, config.history, useDemoBot ? [DEMO_BOT] : bots, servers, logger, owned, pings))
  } catch (error) {
    await release()
    throw error
  }
  const adminToken = options.adminToken ?? randomBytes(32).toString('hex')

  const metrics = createMetrics()
  // Relay mode: the relay publishes through the server's own path, and the server asks the
  // relay about viewers; `server` exists by the time the relay first publishes.
  let publishMany: FatesServer['publishMany'] = () => Promise.reject(new Error('the server is not built yet'))
  const relay =
    options.relay === undefined
      ? undefined
      : new Relay(resolveRelay(options.relay), {
          publish: (requests, publishOptions) => publishMany(requests, publishOptions),
          logger,
          timers: NodeTimers,
          ...(store.headOf === undefined ? {} : { head: (channel: string) => store.headOf!(channel) }),
        })
  // A relay on a store that already holds events (a restart on Redis) fetches what it missed.
  await relay?.restore((channel) => newestStored(store, channel))
  const server = makeServer({
    store,
    logger,
    observer: metrics.observer,
    ...protocolRules(config),
    now: Date.now,
    ...(relay === undefined ? {} : { viewers: relay }),
  })
  publishMany = server.publishMany
  const health: Pick<Store, 'ping'> =
    pings.length === 0 ? store : { ping: async () => void (await Promise.all([store.ping?.(), ...pings.map((ping) => ping())])) }
  metrics.watch(server, health, relay)

  // gorilla/websocket did not validate UTF-8 in text frames; Go's JSON parser answered such
  // bytes with invalid_payload, so ours does too instead of closing with 1007.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    skipUTF8Validation: true,
  })
  useServer(server, wss)
  const http = createServer(
    {
      // A client that never finishes its headers (slowloris) is answered and dropped after
      // this long; Node checks on an interval, so the interval follows the timeout.
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: Math.max(config.headersTimeoutMs, 300_000),
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.headersTimeoutMs / 4))),
    },
    httpHandler(server, adminToken, logger, { metrics: metrics.registry, store: health, ...(relay === undefined ? {} : { relay }) }),
  )
  const perAddress = new AddressCap(config.maxConnectionsPerAddress)
  http.on('upgrade', (request, socket, head) => {
    socket.on('error', () => {})
    const path = (request.url ?? '/').split('?')[0] ?? '/'
    if (!SocketPaths.has(path)) {
      turnAway(socket, 'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    if (!perAddress.admit(request.socket)) {
      // Read again for the log: Node keeps the address the cap read.
      logger.info(`refused an upgrade from ${request.socket.remoteAddress ?? '?'}: over ${perAddress.limit} connections from that address`)
      turnAway(socket, 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 10\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request))
  })
  http.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    socket.on('error', () => {})
    if (!socket.writable) {
      socket.destroy()
      return
    }
    // As Node's own answers: 431 for headers over its limit, 408 for headers too slow.
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'
    turnAway(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  })

  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(config.port, config.host, () => {
        http.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await relay?.close()
    await release()
    throw error
  }
  const { port } = http.address() as AddressInfo
  const hostInUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `ws://${hostInUrl}:${port}${Protocol.path}`
  logger.info(`listening ${url}`)
  if (relay !== undefined) {
    // The upstream's host only: its URL may carry a password, never its tokens (refused).
    const targets = relay.upstreams().map((u) => u.target).join(', ')
    logger.info(`relaying ${targets} from ${upstreamHost(options.relay!.upstream)}, viewers identify with this server's tokens`)
  }

  let stopDemo: (() => void) | undefined
  if (demoRequested) {
    const targets: DemoTarget[] = useDemoBot
      ? [{ kind: 'bot', id: DEMO_BOT.id }]
      : [...bots.map((b) => ({ kind: 'bot' as const, id: b.id })), ...servers.map((s) => ({ kind: 'server' as const, id: s.id }))]
    const demo = typeof options.demo === 'number' ? { rate: options.demo } : (options.demo ?? {})
    stopDemo = startDemo(server.publish, targets, demo, (error) => logger.error(`demo publish failed: ${describe(error)}`))
  }

  let closing: Promise<void> | undefined
  return {
    url,
    port,
    host: config.host,
    adminToken,
    publish: server.publish,
    server,
    upstreams: () => relay?.upstreams() ?? [],
    retryUpstreams: () => relay?.retryNow() ?? [],
    close() {
      closing ??= (async () => {
        stopDemo?.()
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()))
        http.closeAllConnections()
        await relay?.close()
        await server.closeAll(CloseCode.GoingAway)
        wss.close()
        await stopped
        await release()
      })()
      return closing
    },
  }
}

/** The newest `m.ts` among a channel's stored events (Unix seconds), undefined when none has one. */
async function newestStored(store: Store, channel: string): Promise<number | undefined> {
  let newest: number | undefined
  for (const event of Object.values(await store.storedEvents(channel))) {
    const ts = (event as { m?: { ts?: unknown } } | null)?.m?.ts
    if (typeof ts === 'number' && Number.isFinite(ts) && !(ts <= (newest ?? -Infinity))) newest = ts
  }
  return newest
}

/**
 * The upstream URL's host, for the start line, read without its credentials (see
 * {@link withoutCredentials}). A URL that is no longer one without them (an @ in its query) is
 * not named: throwing here would stop a server already listening.
 */
function upstreamHost(upstream: string): string {
  try {
    return new URL(withoutCredentials(upstream)).host
  } catch {
    return 'its upstream'
  }
}

/**
 * Answers a connection the server will not serve, then destroys it once the answer has left
 * this process. `end()` alone only half-closes: a peer that never closes its side would hold
 * the descriptor forever, and a few hundred such peers exhaust the process's descriptors.
 */
function turnAway(socket: Duplex, response: string): void {
  // Read and drop whatever the peer still sends, so that closing with unread bytes does not
  // reset the connection before the answer is read.
  socket.resume()
  socket.end(response, () => socket.destroy())
}

/** Builds the store the options ask for; everything it opens goes into `owned`. */
async function ownStore(
  options: ServerOptions,
  history: number,
  bots: readonly Credentials[],
  servers: readonly Credentials[],
  logger: Logger,
  owned: { close(): Promise<void> }[],
  pings: (() => Promise<void>)[],
): Promise<Store> {
  let tokens: TokenLookup = new MemoryTokens(bots, servers)
  if (options.postgres !== undefined) {
    const postgres = await PostgresTokens.connect({ url: options.postgres, logger })
    owned.push(postgres)
    pings.push(() => postgres.ping())
    tokens = postgres
  }
  if (options.redis !== undefined) {
    const redis = await RedisStore.connect({
      url: options.redis,
      tokens,
      logger,
      history,
      writeOriginalHistory: options.writeOriginalHistory ?? false,
      positions: options.positions ?? true,
    })
    owned.push(redis)
    return redis
  }
  const memory = new MemoryStore({ tokens, maxStoredPerChannel: history, positions: options.positions ?? true })
  owned.push(memory)
  return memory
}
