import { describe, expect, it } from 'vitest'
import { resolveOptions, type ServerOptions } from '../options.js'
import { RelayDefaults, resolveRelay } from './options.js'

const Bot = '811073947382579200'
const Bot2 = '811073947382579201'
const Secret = 'upstream-secret-x1'
const upstream = 'ws://127.0.0.1:1/ws'
const relay = (extra: Partial<NonNullable<ServerOptions['relay']>> = {}) => ({ upstream, bots: [{ id: Bot, token: Secret }], ...extra })

describe('relay options', () => {
  it('applies the defaults table', () => {
    expect(resolveRelay(relay())).toEqual({ upstream, bots: [{ id: Bot, token: Secret }], servers: [], graceMs: RelayDefaults.graceMs, retry: { firstMs: RelayDefaults.retryMs, maxMs: RelayDefaults.retryMaxMs } })
  })

  it.each<[string, ServerOptions, RegExp]>([
    ['an http upstream', { bots: [{ id: Bot, token: 'v' }], relay: relay({ upstream: 'http://127.0.0.1:1/ws' }) }, /relay.upstream must be a ws:\/\/ or wss:\/\/ URL/],
    ['an upstream URL that is not one', { bots: [{ id: Bot, token: 'v' }], relay: relay({ upstream: `ws://x:${Secret}@ exa mple` }) }, /relay.upstream must be a ws:\/\/ or wss:\/\/ URL/],
    ['a token in the upstream URL', { bots: [{ id: Bot, token: 'v' }], relay: relay({ upstream: `ws://127.0.0.1:1/ws?${Secret}` }) }, /must not contain a token/],
    ['no target', { relay: relay({ bots: [] }) }, /at least one target/],
    ['a relayed id without a viewer token', { relay: relay() }, new RegExp(`relay.bots\\[0\\] \\(${Bot}\\) has no viewer token`)],
    ['a viewer token equal to the upstream\'s', { bots: [{ id: Bot, token: Secret }], relay: relay() }, /must differ from the upstream's/],
    ['a viewer id given twice, the second with the upstream token (the in-memory lookup keeps the last)', { bots: [{ id: Bot, token: 'v' }, { id: Bot, token: Secret }], relay: relay() }, /must differ from the upstream's/],
    ['a viewer token equal to another target\'s upstream token', { bots: [{ id: Bot, token: 'v' }, { id: Bot2, token: Secret }], relay: relay({ bots: [{ id: Bot, token: Secret }, { id: Bot2, token: 'upstream-secret-x2' }] }) }, /bots 811073947382579201: the viewer token must differ from the upstream's/],
    ['a viewer server token equal to a bot\'s upstream token', { bots: [{ id: Bot, token: 'v' }], servers: [{ id: Bot2, token: Secret }], relay: relay({ servers: [{ id: Bot2, token: 'upstream-secret-x2' }] }) }, /servers 811073947382579201: the viewer token must differ from the upstream's/],
    ['a viewer token for an id not relayed', { bots: [{ id: Bot, token: 'v' }, { id: '1', token: 'v' }], relay: relay() }, /bots 1 is not relayed/],
    ['a target named twice', { bots: [{ id: Bot, token: 'v' }], relay: relay({ bots: [{ id: Bot, token: Secret }, { id: Bot, token: Secret }] }) }, /names 811073947382579200 twice/],
    ['a bad target id', { bots: [{ id: Bot, token: 'v' }], relay: relay({ servers: [{ id: '0', token: Secret }] }) }, /relay.servers\[0\].id must be a snowflake/],
    ['a negative grace period', { bots: [{ id: Bot, token: 'v' }], relay: relay({ graceMs: -1 }) }, /relay.graceMs/],
    ['a retry wait of 0', { bots: [{ id: Bot, token: 'v' }], relay: relay({ retryMs: 0 }) }, /relay.retryMs must be a whole number ≥ 1/],
    ['a retry cap under the first wait', { bots: [{ id: Bot, token: 'v' }], relay: relay({ retryMs: 10_000, retryMaxMs: 5_000 }) }, /relay.retryMaxMs must be a whole number ≥ relay.retryMs \(10000\)/],
    ['a fractional retry wait', { bots: [{ id: Bot, token: 'v' }], relay: relay({ retryMs: 1.5 }) }, /relay.retryMs/],
    ['a grace period longer than a timer can wait (Node fires it at once)', { bots: [{ id: Bot, token: 'v' }], relay: relay({ graceMs: 2 ** 31 }) }, /relay.graceMs must be a whole number ≥ 0 and ≤ 2147483647/],
    ['a retry wait longer than a timer can wait (retried at once, again and again)', { bots: [{ id: Bot, token: 'v' }], relay: relay({ retryMs: 3_000_000_000 }) }, /relay.retryMs must be a whole number ≥ 1 and ≤ 2147483647/],
    ['a retry cap longer than a timer can wait', { bots: [{ id: Bot, token: 'v' }], relay: relay({ retryMaxMs: 2 ** 31 }) }, /relay.retryMaxMs must be a whole number ≥ relay.retryMs \(60000\) and ≤ 2147483647/],
    ['a store give-up of 0', { bots: [{ id: Bot, token: 'v' }], relay: relay({ storeGiveUpMs: 0 }) }, /relay.storeGiveUpMs must be a whole number ≥ 1, got 0/],
    ['demo traffic', { bots: [{ id: Bot, token: 'v' }], demo: 5, relay: relay() }, /demo and relay exclude each other/],
  ])('rejects %s, never echoing a token', (_name, options, message) => {
    let error: unknown
    try {
      resolveOptions(options)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).not.toContain(Secret)
  })

  it('takes a retry policy, and a first wait over the default cap raises the cap to it', () => {
    expect(resolveRelay(relay({ retryMs: 5_000, retryMaxMs: 20_000 })).retry).toEqual({ firstMs: 5_000, maxMs: 20_000 })
    expect(resolveRelay(relay({ retryMs: 3_600_000 })).retry).toEqual({ firstMs: 3_600_000, maxMs: 3_600_000 })
    expect(Object.isFrozen(RelayDefaults)).toBe(true)
  })

  it('takes how long a refused store is retried before the batch is fetched again, the waits as PublishRetry\'s', () => {
    expect(resolveRelay(relay({ storeGiveUpMs: 500 })).storeRetry).toEqual({ firstMs: 250, maxMs: 8_000, giveUpMs: 500 })
    expect(resolveRelay(relay({ storeGiveUpMs: RelayDefaults.storeGiveUpMs })).storeRetry).toBeUndefined()
  })

  it('leaves the viewer tokens to PostgreSQL when it holds them', () => {
    expect(() => resolveOptions({ postgres: 'postgres://localhost/fates', relay: relay() })).not.toThrow()
  })
})
