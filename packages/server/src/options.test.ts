import { describe, expect, it } from 'vitest'
import { MemoryStore } from './stores/memory.js'
import { resolveOptions, ServerDefaults, type ServerOptions } from './options.js'
import { startServer } from './start.js'

describe('resolveOptions', () => {
  it('applies the defaults table', () => {
    expect(resolveOptions({})).toEqual(ServerDefaults)
  })

  it.each<[string, ServerOptions, RegExp]>([
    ['a negative port', { port: -1 }, /port must be a whole number ≥ 0/],
    ['a port too large', { port: 65536 }, /port must be ≤ 65535/],
    ['a fractional rate limit', { rateLimit: 1.5 }, /rateLimit must be a whole number/],
    ['a zero window', { rateWindowMs: 0 }, /rateWindowMs must be a whole number ≥ 1/],
    ['a string timeout', { identifyTimeoutMs: '5' as unknown as number }, /identifyTimeoutMs/],
    ['an empty host', { host: '' }, /host must be a non-empty string/],
    ['a numeric bot id', { bots: [{ id: 5 as unknown as string, token: 't' }] }, /bots\[0\]\.id must be a snowflake/],
    ['an empty server token', { servers: [{ id: '5', token: '' }] }, /servers\[0\]\.token/],
    ['bots with a custom store', { store: new MemoryStore(), bots: [{ id: '5', token: 't' }] }, /with a custom store/],
    ['a short admin token', { adminToken: 'short' }, /adminToken/],
    ['a zero demo rate', { demo: 0 }, /demo must be/],
    ['a negative demo rate', { demo: { rate: -1 } }, /demo must be/],
    ['a demo rate that would block the event loop', { demo: 1e9 }, /demo must be false, a rate in events per second > 0 and ≤ 10000/],
    ['an identify timeout no timer can wait (Node runs it at once)', { identifyTimeoutMs: 2 ** 31 }, /identifyTimeoutMs must be ≤ 2147483647/],
    ['a ping interval no timer can wait', { pingIntervalMs: 2 ** 31 }, /pingIntervalMs must be ≤ 2147483647/],
    ['an event queue a send_all replay overflows', { history: 100, maxQueuedEvents: 200 }, /maxQueuedEvents must exceed twice the history \(200\)/],
  ])('rejects %s', (_name, options, message) => {
    expect(() => resolveOptions(options)).toThrow(message)
  })

  it('raises the event queue with the history, so that a send_all replay leaves live events the same room', () => {
    expect(resolveOptions({ history: 30_000 }).maxQueuedEvents).toBe(ServerDefaults.maxQueuedEvents + 2 * (30_000 - ServerDefaults.history))
    expect(resolveOptions({ history: 10 }).maxQueuedEvents).toBe(ServerDefaults.maxQueuedEvents)
    expect(resolveOptions({ history: 100, maxQueuedEvents: 201 }).maxQueuedEvents).toBe(201)
  })

  it('makes startServer reject at the call, before listening', async () => {
    await expect(startServer({ port: 0, pingIntervalMs: 0 })).rejects.toThrow(/pingIntervalMs/)
  })
})

describe('IDs', () => {
  it("quote core's one snowflake rule", async () => {
    const { SnowflakeRule } = await import('@fates-rx/core/protocol')
    expect(() => resolveOptions({ bots: [{ id: '0', token: 't' }] })).toThrow(SnowflakeRule)
  })
})
