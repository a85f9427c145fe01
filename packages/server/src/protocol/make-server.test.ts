// The protocol logic on its own, over a fake socket: no `ws`, no network.
import { describe, expect, it, vi } from 'vitest'
import { makeServer } from './make-server.js'
import type { ProtocolTimers, TimerHandle } from './timers.js'
import { fakeSocket, protocolConfig } from '../test/protocol-fakes.js'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('makeServer over a fake socket', () => {
  it('runs the handshake and delivers a published event', async () => {
    const server = makeServer(protocolConfig())
    const { socket, log } = fakeSocket()
    const handlers = server.opened(socket, { remote: 'test' })
    await turn()
    expect(log).toHaveLength(1)
    expect(log[0]).toMatch(/^\{"code":"identity","detail":"Send Bot ID.*","ts":1700000000,"requests_remaining":-1,"control":true\}$/)
    handlers.message('{"id":"42","token":"secret","bot":true}')
    await turn()
    await turn()
    expect(log[1]).toBe('{"code":"ready","detail":"Waiting for messages with 2 already made","ts":1700000000,"requests_remaining":18,"control":true}')
    await server.publish('bot-42', { m: { e: 0, eid: 'x', ts: 1 }, ctx: { user: '1', votes: 1 } })
    await turn()
    expect(log[2]).toBe('{"chan":"bot-42","code":"event","control":false,"dat":{"ctx":{"user":"1","votes":1},"m":{"e":0,"eid":"x","ts":1}},"detail":null}\x1f')
    handlers.closed(1000)
    expect(server.connections).toBe(0)
  })

  it('sends the error payload, then closes, on a configurable ratelimit', async () => {
    const server = makeServer(protocolConfig({ rateLimit: 3 }))
    const { socket, log } = fakeSocket()
    const handlers = server.opened(socket, { remote: 'test' })
    handlers.message('{"id":"42","token":"secret","bot":true}')
    handlers.message('{}')
    handlers.message('{}')
    for (let n = 0; n < 4; n++) await turn()
    expect(log.slice(1)).toEqual([
      '{"code":"ready","detail":"Waiting for messages with 2 already made","ts":1700000000,"requests_remaining":1,"control":true}',
      '{"code":"ratelimited","detail":"Past max requests that can be sent (4)","ts":1700000000,"requests_remaining":-1,"control":true}',
      'close 4012 Ratelimited',
    ])
    handlers.closed(4012)
  })

  it('pings on the interval, keeps a peer that answers and closes one that stays silent with 4000', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval'] })
    try {
      const server = makeServer(protocolConfig({ pingIntervalMs: 10, pongTimeoutMs: 35 }))
      const { socket, log } = fakeSocket()
      const handlers = server.opened(socket, { remote: 'test' })
      vi.advanceTimersByTime(30)
      handlers.pong()
      vi.advanceTimersByTime(30)
      expect(log.filter((entry) => entry === 'ping')).toHaveLength(6)
      expect(log).not.toContain('terminate')
      vi.advanceTimersByTime(5)
      // As the original's read deadline: a close with 4000, then the socket is let go.
      expect(log.at(-1)).toBe('close 4000 Invalid connection, try again')
      vi.advanceTimersByTime(1_000)
      expect(log.at(-1)).toBe('terminate')
      handlers.closed(1006)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('the peer label', () => {
  it('is read only when a log line needs it (it costs a system call per handshake)', async () => {
    let reads = 0
    const peer = {
      get remote() {
        reads++
        return '127.0.0.1:1'
      },
    }
    const quiet = makeServer(protocolConfig())
    quiet.opened(fakeSocket().socket, peer).closed(1000)
    expect(reads).toBe(0)
    const lines: string[] = []
    const logging = makeServer(protocolConfig({ logger: { info: (line) => lines.push(line), error: () => {} } }))
    logging.opened(fakeSocket().socket, peer).closed(1000)
    expect(reads).toBe(1)
    expect(lines[0]).toBe('#1 open from 127.0.0.1:1')
  })
})

/** Timers on a virtual clock that only moves when a test says so. */
function virtualTimers() {
  let now = 0
  let nextId = 0
  const pending = new Map<number, { at: number; every: number | undefined; run: () => void }>()
  const schedule = (ms: number, run: () => void, every: number | undefined): TimerHandle => {
    const id = nextId++
    pending.set(id, { at: now + ms, every, run })
    return {
      refresh: () => {
        const timer = pending.get(id)
        if (timer !== undefined) timer.at = now + ms
      },
      cancel: () => void pending.delete(id),
    }
  }
  const timers: ProtocolTimers = {
    after: (ms, run) => schedule(ms, run, undefined),
    every: (ms, run) => schedule(ms, run, ms),
    soon: (run) => queueMicrotask(run),
  }
  /** Moves the clock forward, running what falls due in order. */
  const advance = async (ms: number): Promise<void> => {
    const until = now + ms
    for (;;) {
      let due: [number, { at: number; every: number | undefined; run: () => void }] | undefined
      for (const entry of pending) if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry
      if (due === undefined) break
      const [id, timer] = due
      now = timer.at
      if (timer.every === undefined) pending.delete(id)
      else timer.at = now + timer.every
      timer.run()
      await new Promise<void>((resolve) => queueMicrotask(resolve))
    }
    now = until
  }
  return { timers, advance, now: () => now }
}

describe('in virtual time', () => {
  it('closes with 4000 at the identify timeout, pings every interval, and drops a peer silent past the pong timeout', async () => {
    const clock = virtualTimers()
    const server = makeServer(protocolConfig({ timers: clock.timers, identifyTimeoutMs: 30_000, pingIntervalMs: 54_000, pongTimeoutMs: 60_000, now: clock.now }))
    const quiet = fakeSocket()
    server.opened(quiet.socket, { remote: '-' })
    await clock.advance(29_999)
    expect(quiet.log.filter((l) => l.startsWith('close'))).toEqual([])
    await clock.advance(1)
    expect(quiet.log.at(-1)).toBe('close 4000 Invalid connection, try again')

    const silent = fakeSocket()
    const handlers = server.opened(silent.socket, { remote: '-' })
    handlers.message(JSON.stringify({ id: '42', token: 'secret', bot: true }))
    await clock.advance(54_000)
    expect(silent.log.filter((l) => l === 'ping')).toHaveLength(1)
    // A pong keeps it; then 60 s of silence drops it.
    handlers.pong()
    await clock.advance(59_999)
    expect(silent.log).not.toContain('terminate')
    await clock.advance(1)
    expect(silent.log.at(-1)).toBe('close 4000 Invalid connection, try again')
    await clock.advance(1_000)
    expect(silent.log.at(-1)).toBe('terminate')
  })
})
