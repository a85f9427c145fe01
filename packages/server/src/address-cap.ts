/**
 * Counts open websocket connections per remote address and refuses one over the limit: one
 * address (a script, a reloading page gone wrong) cannot take every connection a server can
 * hold. Behind a proxy every viewer shares its address: raise the limit there, or cap at the
 * proxy; `X-Forwarded-For` is not trusted, since anyone can send it.
 */
/** What the cap needs of a connection's socket: its peer's address, and its close. */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined
  once(event: 'close', listener: () => void): unknown
}

export class AddressCap {
  readonly #open = new Map<string, number>()

  /** `limit`: the most open connections per address; 0 for no limit. */
  constructor(readonly limit: number) {}

  /**
   * Takes a place for `socket`'s address until the socket closes (its close, not the
   * websocket's: it comes whether or not the upgrade completes); false when the address
   * already holds `limit` connections. Without a limit it reads nothing: the peer's address
   * costs a system call on every handshake (a tenth of what the server adds to a bare ws
   * upgrade, measured).
   */
  admit(socket: PeerSocket): boolean {
    if (this.limit === 0) return true
    const address = socket.remoteAddress ?? '?'
    const open = this.#open.get(address) ?? 0
    if (open >= this.limit) return false
    this.#open.set(address, open + 1)
    socket.once('close', () => this.#release(address))
    return true
  }

  /** Gives back a place {@link admit} took. */
  #release(address: string): void {
    const open = (this.#open.get(address) ?? 0) - 1
    if (open <= 0) this.#open.delete(address)
    else this.#open.set(address, open)
  }

  /** Addresses holding at least one place. */
  get addresses(): number {
    return this.#open.size
  }
}
