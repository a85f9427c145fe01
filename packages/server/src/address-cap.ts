/**
 * Counts open websocket connections per remote address and refuses one over the limit: one
 * address (a script, a reloading page gone wrong) cannot take every connection a server can
 * hold. Behind a proxy every viewer shares its address: raise the limit there, or cap at the
 * proxy; `X-Forwarded-For` is not trusted, since anyone can send it.
 */
export class AddressCap {
  readonly #open = new Map<string, number>()

  /** `limit`: the most open connections per address; 0 for no limit. */
  constructor(readonly limit: number) {}

  /** Takes a place for `address`; false when it already holds `limit` connections. */
  admit(address: string): boolean {
    if (this.limit === 0) return true
    const open = this.#open.get(address) ?? 0
    if (open >= this.limit) return false
    this.#open.set(address, open + 1)
    return true
  }

  /** Gives back a place {@link admit} took (once per admitted connection). */
  release(address: string): void {
    if (this.limit === 0) return
    const open = (this.#open.get(address) ?? 0) - 1
    if (open <= 0) this.#open.delete(address)
    else this.#open.set(address, open)
  }

  /** Addresses holding at least one place. */
  get addresses(): number {
    return this.#open.size
  }
}
