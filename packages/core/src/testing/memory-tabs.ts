import type { TabChannel, TabLocks, TabsEnvironment } from '../client/tabs/tab-support.js'

/** One tab of a {@link MemoryBrowser}: what `shareAcrossTabs` takes, and a way to crash it. */
export interface MemoryTab {
  /** Pass it as `connect({ shareAcrossTabs: tab.environment })`. */
  readonly environment: TabsEnvironment
  /** The tab dies as a crashed renderer does: its locks and lock requests go, its channels go deaf and mute. */
  crash(): void
}

/** Tabs of one origin in memory: Web Locks and BroadcastChannels, as a browser shares them. */
export interface MemoryBrowser {
  /** A new tab. */
  tab(): MemoryTab
  /** Every message posted on any channel, as posted (after a structured clone), with the channel's name. */
  readonly posted: ReadonlyArray<{ readonly channel: string; readonly message: unknown }>
  /** The names of every channel opened. */
  readonly channels: readonly string[]
}

interface Request {
  readonly tab: number
  readonly name: string
  readonly grant: () => void
}

class AbortError extends Error {
  override readonly name = 'AbortError'
}

/**
 * A browser's Web Locks and BroadcastChannels in memory, for testing `shareAcrossTabs` without
 * a browser: exclusive locks granted in request order, a crashed tab's lock passed on, messages
 * structured-cloned and delivered to every other open channel of the same name in a later
 * microtask (never to the sender). Time is not involved, so it runs beside a virtual clock.
 *
 * @example
 * const browser = memoryBrowser()
 * const a = connect({ ...options, shareAcrossTabs: browser.tab().environment })
 * const b = connect({ ...options, shareAcrossTabs: browser.tab().environment })
 */
export function memoryBrowser(): MemoryBrowser {
  const held = new Map<string, Request>()
  const pending: Request[] = []
  const open = new Set<{ readonly tab: number; readonly name: string; readonly channel: TabChannel }>()
  const posted: Array<{ channel: string; message: unknown }> = []
  const channels: string[] = []
  const dead = new Set<number>()
  let tabs = 0

  const next = (name: string): void => {
    if (held.has(name)) return
    const index = pending.findIndex((request) => request.name === name)
    if (index < 0) return
    const [request] = pending.splice(index, 1) as [Request]
    held.set(name, request)
    request.grant()
  }

  return {
    posted,
    channels,
    tab(): MemoryTab {
      const tab = ++tabs
      const locks: TabLocks = {
        request(name, options, callback) {
          return new Promise((resolve, reject) => {
            if (dead.has(tab)) return
            const signal = options.signal
            if (signal?.aborted === true) return reject(new AbortError('aborted'))
            const request: Request = {
              tab,
              name,
              grant: () =>
                queueMicrotask(() => {
                  const release = (): void => {
                    if (held.get(name) !== request) return
                    held.delete(name)
                    next(name)
                  }
                  callback().then(
                    (value) => {
                      release()
                      resolve(value)
                    },
                    (error: unknown) => {
                      release()
                      reject(error)
                    },
                  )
                }),
            }
            signal?.addEventListener('abort', () => {
              const index = pending.indexOf(request)
              if (index < 0) return
              pending.splice(index, 1)
              reject(new AbortError('aborted'))
            })
            pending.push(request)
            next(name)
          })
        },
        query: () =>
          Promise.resolve({
            held: [...held.values()].map((request) => ({ name: request.name })),
            pending: pending.map((request) => ({ name: request.name })),
          }),
      }
      class MemoryChannel implements TabChannel {
        onmessage: TabChannel['onmessage'] = null
        private readonly entry
        constructor(readonly name: string) {
          this.entry = { tab, name, channel: this as TabChannel }
          channels.push(name)
          if (!dead.has(tab)) open.add(this.entry)
        }
        private closed = false
        postMessage(message: unknown): void {
          // As a browser's: posting on a channel this tab closed throws (InvalidStateError).
          if (this.closed) throw new DOMException('The BroadcastChannel is closed.', 'InvalidStateError')
          if (dead.has(tab) || !open.has(this.entry)) return
          const copy = structuredClone(message)
          posted.push({ channel: this.name, message: copy })
          for (const other of open) {
            if (other.name !== this.name || other === this.entry) continue
            queueMicrotask(() => {
              if (open.has(other)) other.channel.onmessage?.({ data: structuredClone(copy) })
            })
          }
        }
        close(): void {
          this.closed = true
          open.delete(this.entry)
        }
      }
      return {
        environment: { locks, BroadcastChannel: MemoryChannel },
        crash() {
          dead.add(tab)
          for (const entry of [...open]) if (entry.tab === tab) open.delete(entry)
          for (let i = pending.length - 1; i >= 0; i--) if (pending[i]?.tab === tab) pending.splice(i, 1)
          for (const [name, request] of [...held]) {
            if (request.tab !== tab) continue
            held.delete(name)
            next(name)
          }
        },
      }
    },
  }
}
