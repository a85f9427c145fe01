import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'

/**
 * A loopback TCP proxy for tests: every connection to it is piped to `target`, and {@link cut}
 * destroys the connections open at that moment (both sides, no close handshake), as a network
 * drop does, while the proxy keeps accepting new ones. It cuts a socket, not a server: the
 * origin behind it keeps running and publishing.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #pairs = new Set<readonly [Socket, Socket]>()
  /** Connections accepted since the start. */
  accepted = 0
  /** While true, a new connection is destroyed at once (the target looks down; see {@link down}). */
  #refusing = false

  private constructor(server: Server) {
    this.#server = server
  }

  /** Listens on a free loopback port and forwards to `target`. */
  static async start(target: { readonly host: string; readonly port: number }): Promise<TcpProxy> {
    const server = createServer()
    const proxy = new TcpProxy(server)
    server.on('connection', (client) => proxy.#pipe(client, target))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  /** The port it listens on. */
  get port(): number {
    return (this.#server.address() as { port: number }).port
  }

  /** Connections open now. */
  get open(): number {
    return this.#pairs.size
  }

  /** Destroys every open connection, both sides at once; resolves to how many. */
  cut(): number {
    const pairs = [...this.#pairs]
    this.#pairs.clear()
    for (const [client, upstream] of pairs) {
      client.destroy()
      upstream.destroy()
    }
    return pairs.length
  }

  /**
   * The target looks down (`true`: every open connection cut, new ones destroyed at once) or up
   * again (`false`), while the target itself runs on.
   */
  down(refusing: boolean): void {
    this.#refusing = refusing
    if (refusing) this.cut()
  }

  /** Cuts everything and stops listening. */
  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #pipe(client: Socket, target: { readonly host: string; readonly port: number }): void {
    this.accepted++
    if (this.#refusing) {
      client.destroy()
      return
    }
    const upstream = tcpConnect(target.port, target.host)
    const pair = [client, upstream] as const
    this.#pairs.add(pair)
    const end = (): void => {
      this.#pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  }
}
