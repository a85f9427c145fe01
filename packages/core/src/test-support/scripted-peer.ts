// A small scripted stand-in for the server, for fault tests over real sockets until the real
// one is available to this package's tests. It speaks the handshake, stores and replays events,
// publishes live, and can be told to misbehave. Not part of the build.
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface PeerScript {
  readonly token?: string
  /** Never send identity. */
  readonly silent?: boolean
  /** Answer identify with ratelimited + 4012 this many times first. */
  readonly ratelimitFirst?: number
  /** Events per replay frame, and the pause between replay frames (ms). */
  readonly replayBatch?: number
  readonly replayPauseMs?: number
}

const payload = (code: string, detail: string, remaining: number) =>
  JSON.stringify({ code, detail, ts: Math.floor(Date.now() / 1000), requests_remaining: remaining, control: true })

export class ScriptedPeer {
  readonly identifies: { at: number; raw: string }[] = []
  connections = 0
  private readonly live = new Set<WebSocket>()
  private ratelimited = 0
  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
    readonly store: Map<string, string>,
    private readonly script: PeerScript,
  ) {}

  static async start(script: PeerScript = {}, port = 0, store = new Map<string, string>()): Promise<ScriptedPeer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    await once(wss, 'listening')
    const peer = new ScriptedPeer(wss, (wss.address() as AddressInfo).port, store, script)
    wss.on('connection', (socket) => peer.accept(socket))
    return peer
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  private accept(socket: WebSocket): void {
    this.connections++
    socket.on('error', () => undefined)
    if (this.script.silent) return
    socket.send(payload('identity', 'Send Bot ID and API Token…', -1))
    socket.once('message', (data) => {
      const raw = String(data)
      this.identifies.push({ at: Date.now(), raw })
      const identify = JSON.parse(raw) as { token: string; send_all?: boolean }
      if (identify.token !== (this.script.token ?? 'testtoken')) {
        socket.send(payload('invalid_auth', 'no rows in result set', -1))
        socket.close(4004, 'Invalid authentication, try again')
        return
      }
      if (this.ratelimited < (this.script.ratelimitFirst ?? 0)) {
        this.ratelimited++
        socket.send(payload('ratelimited', 'Past max requests that can be sent (22)', -2))
        socket.close(4012, 'Ratelimited')
        return
      }
      socket.send(payload('ready', 'Waiting for messages with 2 already made', 18))
      if (identify.send_all === true) void this.replay(socket)
      else this.live.add(socket)
      socket.on('close', () => this.live.delete(socket))
    })
  }

  private async replay(socket: WebSocket): Promise<void> {
    // Stored events go out in random order, as the original's map iteration did.
    const events = [...this.store.values()].sort(() => Math.random() - 0.5)
    const batch = this.script.replayBatch ?? events.length
    // Live events published during the replay are queued for this socket, as the server's queue would.
    this.live.add(socket)
    for (let i = 0; i < events.length; i += batch) {
      if (socket.readyState !== socket.OPEN) return
      socket.send(events.slice(i, i + batch).map((e) => `${e}\x1f`).join('\x1f'))
      if (this.script.replayPauseMs !== undefined) await new Promise((r) => setTimeout(r, this.script.replayPauseMs))
    }
    if (socket.readyState === socket.OPEN) socket.send(payload('done_prior', 'Done sending all prior messages', 18))
  }

  /** Stores the event and sends it to every identified connection. */
  publish(eid: string, ts: number): void {
    const event = JSON.stringify({ chan: 'bot-811073947382579200', code: 'event', control: false, dat: { m: { e: 0, eid, t: -1, ts }, ctx: { user: '1', votes: 1, test: false } }, detail: null })
    this.store.set(eid, event)
    for (const socket of this.live) if (socket.readyState === socket.OPEN) socket.send(`${event}\x1f`)
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }
}

/** A TCP proxy on loopback that can cut every connection abruptly (no close frame: 1006). */
export class CuttingProxy {
  /** TCP connections accepted so far. */
  connections = 0
  private readonly sockets = new Set<Socket>()
  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetPort: number): Promise<CuttingProxy> {
    const server = createServer()
    const proxy = new Promise<CuttingProxy>((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve(new CuttingProxy(server, (server.address() as AddressInfo).port)))
    })
    const ready = await proxy
    server.on('connection', (client) => {
      ready.connections++
      const upstream = new (client.constructor as typeof Socket)()
      upstream.connect(targetPort, '127.0.0.1')
      for (const s of [client, upstream]) {
        ready.sockets.add(s)
        s.on('error', () => undefined)
        s.on('close', () => ready.sockets.delete(s))
      }
      client.pipe(upstream).pipe(client)
      client.on('close', () => upstream.destroy())
      upstream.on('close', () => client.destroy())
    })
    return ready
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  /** Destroys every proxied TCP connection at once. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy()
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
