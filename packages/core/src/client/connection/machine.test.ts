import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type ControlPayload, type ReceivedEvent, redactSecret } from '../../codec/index.js'
import type { Decoded } from '../../operators/diagnostic.js'
import { closePolicy, Protocol, refusalAction, SlowRetry } from '../../protocol/index.js'
import { type Effect, initialState, type MachineConfig, type MachineInput, type MachineState, MaxRefusedUpgrades, step, type TimerName } from './machine.js'
import { resolveOptions } from '../options.js'
import { type ConnectionState, Transitions } from './status.js'

// The pure machine driven by random sequences of what can happen to a client, against a
// model of the world: a server that counts identifies exactly as the original did (20 per
// window, an identify costs 2) and sockets and timers that exist only when the effects say so.

const token = 'machine-secret'
const WindowMs = 60_000

const config = (backoff: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number }): MachineConfig =>
  resolveOptions({
    url: 'ws://127.0.0.1:9/ws',
    id: '42',
    token,
    sendAll: true,
    livenessTimeoutMs: 30_000,
    rateWindowMs: WindowMs,
    maxReplayHeld: 5,
    backoff: { ...backoff, resetAfterMs: 10_000 },
  })

/** What the test can make happen. */
type Action =
  | { readonly kind: 'subscribe' | 'unsubscribe' | 'close' | 'reconnect' | 'online' | 'open' | 'identity' | 'ready' | 'done' | 'fire' }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'event'; readonly ts: number }
  | { readonly kind: 'error'; readonly code: 'invalid_auth' | 'ratelimited' }
  | { readonly kind: 'drop'; readonly code: number; readonly httpStatus?: number }
  | { readonly kind: 'badCredentials'; readonly bad: boolean }

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<Action>({ kind: 'subscribe' }, { kind: 'unsubscribe' }, { kind: 'close' }, { kind: 'reconnect' }, { kind: 'online' }) },
  { weight: 6, arbitrary: fc.constantFrom<Action>({ kind: 'open' }, { kind: 'identity' }, { kind: 'ready' }, { kind: 'done' }) },
  { weight: 5, arbitrary: fc.constant<Action>({ kind: 'fire' }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 120_000 }).map((ms): Action => ({ kind: 'wait', ms })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 9 }).map((ts): Action => ({ kind: 'event', ts })) },
  { weight: 1, arbitrary: fc.constantFrom<Action>({ kind: 'error', code: 'invalid_auth' }, { kind: 'error', code: 'ratelimited' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('drop' as const),
      code: fc.constantFrom(1000, 1001, 1006, 1006, 1009, 4000, 4004, 4012, 4500, 3999),
      httpStatus: fc.option(fc.constantFrom(400, 401, 403, 404, 408, 410, 429, 502), { nil: undefined }),
    }).map(({ kind, code, httpStatus }): Action => (httpStatus === undefined ? { kind, code } : { kind, code: 1006, httpStatus })),
  },
  { weight: 1, arbitrary: fc.boolean().map((bad): Action => ({ kind: 'badCredentials', bad })) },
)

interface Trace {
  readonly inputs: MachineInput[]
  readonly effects: Effect[][]
  readonly statuses: { state: ConnectionState; cause: MachineInput }[]
}

/**
 * The state's fields that could disagree (issue 19) agree after every step and its effects:
 * a pending retry is a `reconnecting` status with no connection and the retry timer armed (and
 * only then is that timer armed); `closed` and `failed` hold no connection and no retry; a
 * stopped client is `closed` or `failed`; the connection's phase is the status's.
 */
function agree(state: MachineState, timers: ReadonlyMap<TimerName, number>): void {
  const status = state.status.state
  const phase = state.connection?.phase
  expect(timers.has('retry'), `retry timer armed ⇔ retry pending (${state.retry}, ${status})`).toBe(state.retry !== undefined)
  if (state.retry !== undefined) {
    expect(status).toBe('reconnecting')
    expect(phase).toBeUndefined()
  }
  if (status === 'closed' || status === 'failed') {
    expect(phase === undefined || phase === 'reading' || phase === 'ready-to-open', `${status} with a ${phase} connection`).toBe(true)
    expect(state.retry).toBeUndefined()
  }
  if (state.stopped) expect(['closed', 'failed']).toContain(status)
  if (phase === 'opening') expect(status).toBe('connecting')
  if (phase === 'awaiting-identity' || phase === 'awaiting-ready') expect(status).toBe('identifying')
  if (phase === 'replaying') expect(status).toBe('replaying')
  if (phase === 'live') expect(status).toBe('live')
}

/** Runs actions against the world model, checking the invariants after every step. */
function run(actions: readonly Action[], backoff: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number }, jitter: number): Trace {
  const cfg = config(backoff)
  let now = 1_000_000
  let state: MachineState = initialState(now)
  let subscribed = false
  let badCredentials = false
  let open: number | undefined // the socket the world has open
  let identified = false
  const timers = new Map<TimerName, number>()
  // The server's ratelimit, as the original kept it: a window fixed at the first identify.
  let windowStart: number | undefined
  let counter = 0
  let cooldownUntil = -Infinity
  const trace: Trace = { inputs: [], effects: [], statuses: [] }
  const queue: MachineInput[] = []

  const feed = (input: MachineInput): void => {
    queue.push(input)
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const before = state
      const result = step(state, next, cfg)
      state = result.state
      trace.inputs.push(next)
      trace.effects.push([...result.effects])
      for (const effect of result.effects) perform(effect, next, before)
      agree(state, timers)
    }
  }

  const perform = (effect: Effect, cause: MachineInput, before: MachineState): void => {
    switch (effect.type) {
      case 'read-credentials':
        queue.push(badCredentials ? { type: 'credentials-failed', at: now, detail: 'Bad connection option: url must use ws: or wss:.' } : { type: 'credentials', at: now, url: 'ws://x/ws', id: '42', token })
        return
      case 'open':
        // Never two sockets at once; never a connection inside a 4012 cooldown.
        expect(open).toBeUndefined()
        expect(now).toBeGreaterThanOrEqual(cooldownUntil)
        expect(subscribed).toBe(true)
        open = effect.socket
        identified = false
        return
      case 'close-socket':
        expect(effect.socket).toBe(open)
        open = undefined
        return
      case 'send': {
        expect(effect.socket).toBe(open)
        expect(JSON.parse(effect.text)).toMatchObject({ id: '42', token })
        // The server's arithmetic: a new window at the first identify after the last ended.
        if (windowStart === undefined || now >= windowStart + WindowMs) {
          windowStart = now
          counter = 0
        }
        counter += Protocol.identifyCost
        // The client never spends more than the server allows.
        expect(counter).toBeLessThanOrEqual(Protocol.rateLimit)
        identified = true
        return
      }
      case 'arm':
        expect(effect.ms).toBeGreaterThanOrEqual(0)
        timers.set(effect.timer, now + effect.ms)
        return
      case 'cancel':
        timers.delete(effect.timer)
        return
      case 'status': {
        const from = trace.statuses.at(-1)?.state ?? before.status.state
        expect(Transitions[from] as readonly string[]).toContain(effect.status.state)
        expect(JSON.stringify(effect.status)).not.toContain(token)
        trace.statuses.push({ state: effect.status.state, cause })
        if (effect.status.state === 'reconnecting' && state.retry === 'backoff' && cause.type === 'closed' && refusalAction(cause.httpStatus) === 'slow-retry') {
          // A refusal retried slowly: minutes, whatever the backoff.
          expect(effect.status.delayMs).toBeGreaterThanOrEqual(SlowRetry.minMs)
          expect(effect.status.delayMs).toBeLessThanOrEqual(2 * SlowRetry.minMs)
        } else if (effect.status.state === 'reconnecting' && state.retry === 'backoff') {
          // Backoff delays within [0, cap].
          const attempt = effect.status.attempt ?? 0
          const cap = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.max(0, attempt - 1))
          expect(effect.status.delayMs).toBeGreaterThanOrEqual(0)
          expect(effect.status.delayMs).toBeLessThanOrEqual(cap)
        }
        if (effect.status.state === 'failed') {
          // Failed only from the policy's fatal rows, giving up, refused upgrades or a bad option.
          const why = effect.status.detail ?? ''
          const fatalClose = cause.type === 'closed' && closePolicy(cause.code).action === 'fail'
          const refused = why.startsWith(`Gave up after ${MaxRefusedUpgrades} refused upgrades`)
          expect(fatalClose || refused || why.startsWith('Gave up after') || cause.type === 'credentials-failed').toBe(true)
        }
        return
      }
      case 'then':
        queue.push(effect.input)
        return
      default:
        return
    }
  }

  const fromServer = (payload: ControlPayload | ReceivedEvent): void => {
    if (open === undefined) return
    const socket = open
    // The pipeline before the machine (decodePayloads with the client's redactor) redacts.
    const clean = JSON.parse(redactSecret(JSON.stringify(payload), token)) as typeof payload
    const decoded = 'control' in clean ? { type: 'control' as const, control: clean } : { type: 'event' as const, event: clean }
    feed({ type: 'frame', at: now, socket, payloads: [decoded] })
  }
  const remaining = (): number => (windowStart !== undefined && now < windowStart + WindowMs ? Protocol.rateLimit - counter : Protocol.rateLimit)
  const serverClose = (code: number, httpStatus?: number): void => {
    if (open === undefined) return
    const socket = open
    open = undefined
    if (code === 4012) {
      // The server bans until the window of the first identify has passed.
      cooldownUntil = windowStart !== undefined && now < windowStart + WindowMs ? windowStart + WindowMs : now + WindowMs
    }
    feed({ type: 'closed', at: now, socket, code, reason: `bye ${token}`, jitter, ...(httpStatus === undefined ? {} : { httpStatus }) })
  }

  for (const a of actions) {
    switch (a.kind) {
      case 'subscribe':
        if (subscribed) break
        subscribed = true
        feed({ type: 'subscribed', at: now })
        break
      case 'unsubscribe':
        if (!subscribed) break
        subscribed = false
        feed({ type: 'unsubscribed', at: now })
        // Every socket opened is closed after the last unsubscribe, and no timer is left armed.
        expect(open).toBeUndefined()
        expect([...timers.keys()]).toEqual([])
        break
      case 'close':
        feed({ type: 'close', at: now })
        expect(open).toBeUndefined()
        expect([...timers.keys()]).toEqual([])
        break
      case 'reconnect':
        feed({ type: 'reconnect', at: now })
        break
      case 'online':
        feed({ type: 'online', at: now })
        break
      case 'open':
        if (open !== undefined) feed({ type: 'opened', at: now, socket: open })
        break
      case 'identity':
        fromServer({ code: 'identity', control: true, requests_remaining: -1 })
        break
      case 'ready':
        if (identified) fromServer({ code: 'ready', control: true, requests_remaining: remaining() })
        break
      case 'done':
        fromServer({ code: 'done_prior', control: true, requests_remaining: remaining() })
        break
      case 'event':
        fromServer({ m: { e: 0, eid: `e${a.ts}`, ts: a.ts }, ctx: {} })
        break
      case 'error':
        if (a.code === 'ratelimited') {
          fromServer({ code: 'ratelimited', control: true, requests_remaining: -1, detail: 'Ratelimited' })
          serverClose(4012)
        } else {
          fromServer({ code: 'invalid_auth', control: true, requests_remaining: -1, detail: `no rows for ${token}` })
          serverClose(4004)
        }
        break
      case 'drop':
        // A 4012 only comes from a server whose budget is spent; elsewhere it is another code.
        serverClose(a.code === 4012 && remaining() >= Protocol.identifyCost ? 4500 : a.code, a.httpStatus)
        break
      case 'badCredentials':
        badCredentials = a.bad
        break
      case 'wait':
        now += a.ms
        break
      case 'fire': {
        // The earliest armed timer fires at its time.
        const earliest = [...timers.entries()].sort((x, y) => x[1] - y[1])[0]
        if (earliest === undefined) break
        now = Math.max(now, earliest[1])
        timers.delete(earliest[0])
        feed({ type: 'timer', at: now, timer: earliest[0], jitter })
        break
      }
    }
  }
  return trace
}

const backoffs = fc.record({
  maxAttempts: fc.constantFrom(0, 1, 3, Infinity),
  initialDelayMs: fc.integer({ min: 0, max: 2_000 }),
  maxDelayMs: fc.integer({ min: 1, max: 60_000 }),
})
const jitters = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe('the connection machine (properties over random histories)', () => {
  it('never two sockets, never over the ratelimit, never inside a cooldown; statuses follow the table; nothing left after close or the last unsubscribe', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 120 }), backoffs, jitters, (actions, backoff, jitter) => {
        run([{ kind: 'subscribe' }, ...actions, { kind: 'close' }], backoff, jitter)
      }),
      { numRuns: 400 },
    )
  })

  it('is deterministic: the same inputs give the same effects', () => {
    fc.assert(
      fc.property(fc.array(action, { maxLength: 80 }), backoffs, jitters, (actions, backoff, jitter) => {
        const a = run([{ kind: 'subscribe' }, ...actions], backoff, jitter)
        const b = run([{ kind: 'subscribe' }, ...actions], backoff, jitter)
        expect(b.effects).toEqual(a.effects)
      }),
      { numRuns: 100 },
    )
  })

  it('resets the attempt count after a stable live period', () => {
    const cfg = config({ maxAttempts: Infinity, initialDelayMs: 1000, maxDelayMs: 30_000 })
    let state = initialState(0)
    const feed = (input: MachineInput): Effect[] => {
      const result = step(state, input, cfg)
      state = result.state
      return [...result.effects]
    }
    const connectOnce = (at: number): number => {
      feed({ type: 'credentials', at, url: 'ws://x/ws', id: '42', token })
      feed({ type: 'open-now', at })
      const socket = state.connection?.socket as number
      feed({ type: 'opened', at, socket })
      feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'identity', control: true } } })
      feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'ready', control: true, requests_remaining: 18 } } })
      return socket
    }
    feed({ type: 'subscribed', at: 0 })
    let socket = connectOnce(0)
    for (let i = 0; i < 3; i++) {
      feed({ type: 'closed', at: 1, socket, code: 1006, reason: '', jitter: 0.5 })
      feed({ type: 'timer', at: 30_000 * (i + 1), timer: 'retry', jitter: 0.5 })
      socket = connectOnce(30_000 * (i + 1))
    }
    expect(state.failures).toBe(3)
    feed({ type: 'timer', at: 200_000, timer: 'stable', jitter: 0.5 })
    expect(state.failures).toBe(0)
    const effects = feed({ type: 'closed', at: 200_001, socket, code: 1006, reason: '', jitter: 0.5 })
    const status = effects.find((e) => e.type === 'status')
    expect(status).toMatchObject({ status: { state: 'reconnecting', attempt: 1, delayMs: 500 } })
  })

  /** A machine driven through refused upgrades (HTTP 400) and connections that reach ready. */
  function refusals() {
    const cfg = config({ maxAttempts: Infinity, initialDelayMs: 1, maxDelayMs: 1 })
    const driver = { state: initialState(0), at: 0 }
    const feed = (input: MachineInput): Effect[] => {
      const result = step(driver.state, input, cfg)
      driver.state = result.state
      return [...result.effects]
    }
    const open = (): number => {
      driver.at += 1000
      feed({ type: 'credentials', at: driver.at, url: 'ws://x/ws', id: '42', token })
      feed({ type: 'open-now', at: driver.at })
      return driver.state.connection?.socket as number
    }
    const statusOf = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'status' ? [e.status] : [])).at(-1)
    /** One attempt refused with HTTP 400, and the retry's timer: the status it ended with. */
    const refuse = () => {
      const socket = open()
      const effects = feed({ type: 'closed', at: driver.at, socket, code: 1006, reason: '', httpStatus: 400, jitter: 0 })
      feed({ type: 'timer', at: driver.at, timer: 'retry', jitter: 0 })
      return statusOf(effects)
    }
    /** One attempt that reaches ready; its socket. */
    const ready = (): number => {
      const socket = open()
      const at = driver.at
      feed({ type: 'opened', at, socket })
      feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'identity', control: true } } })
      feed({ type: 'decoded', at, socket, decoded: { type: 'control', control: { code: 'ready', control: true, requests_remaining: 18 } } })
      return socket
    }
    feed({ type: 'subscribed', at: 0 })
    return { driver, feed, refuse, ready }
  }

  it('counts refused upgrades in a row only: a connection that reaches ready starts the count again', () => {
    const { driver, feed, refuse, ready } = refusals()
    for (let i = 1; i < MaxRefusedUpgrades; i++) expect(refuse()?.state).toBe('reconnecting')
    // A connection that reaches ready in between: the refusals before it no longer count.
    const socket = ready()
    feed({ type: 'closed', at: driver.at, socket, code: 1006, reason: '', jitter: 0 })
    feed({ type: 'timer', at: driver.at, timer: 'retry', jitter: 0 })
    for (let i = 1; i < MaxRefusedUpgrades; i++) expect(refuse()?.state).toBe('reconnecting')
    expect(refuse()).toMatchObject({ state: 'failed', detail: expect.stringContaining('HTTP 400') })
  })

  it('does not count refusals from before a connection that reached ready and was then replaced by reconnect() (no close input)', () => {
    const { driver, feed, refuse, ready } = refusals()
    for (let i = 1; i < MaxRefusedUpgrades; i++) expect(refuse()?.state).toBe('reconnecting')
    // The url is right after all: a connection reaches ready (its replay, sendAll) and stays an hour.
    ready()
    expect(driver.state.status.state).toBe('replaying')
    driver.at += 3_600_000
    // The user asks for a fresh connection (or a liveness timeout replaces it): no close input.
    feed({ type: 'reconnect', at: driver.at })
    // One refusal (a gateway blip during a deploy) must not make "3 in a row".
    expect(refuse()?.state).toBe('reconnecting')
  })

  it('does not count an HTTP 5xx answer as a refusal', () => {
    const cfg = config({ maxAttempts: Infinity, initialDelayMs: 1, maxDelayMs: 1 })
    let state = step(initialState(0), { type: 'subscribed', at: 0 }, cfg).state
    for (let i = 0; i < MaxRefusedUpgrades + 2; i++) {
      state = step(state, { type: 'credentials', at: i, url: 'ws://x/ws', id: '42', token }, cfg).state
      state = step(state, { type: 'open-now', at: i }, cfg).state
      const socket = state.connection?.socket as number
      state = step(state, { type: 'closed', at: i, socket, code: 1006, reason: '', httpStatus: 502, jitter: 0 }, cfg).state
      expect(state.status.state).toBe('reconnecting')
      state = step(state, { type: 'timer', at: i, timer: 'retry', jitter: 0 }, cfg).state
    }
  })

  it('ignores every input of a socket other than the current one', () => {
    const cfg = config({ maxAttempts: Infinity, initialDelayMs: 1, maxDelayMs: 1 })
    let state = step(initialState(0), { type: 'subscribed', at: 0 }, cfg).state
    state = step(state, { type: 'credentials', at: 0, url: 'ws://x/ws', id: '42', token }, cfg).state
    state = step(state, { type: 'open-now', at: 0 }, cfg).state
    const current = state.connection?.socket as number
    const stale = current - 1
    for (const input of [
      { type: 'opened', at: 1, socket: stale },
      { type: 'frame', at: 1, socket: stale, payloads: [{ type: 'control', control: { code: 'identity', control: true } }] },
      { type: 'decoded', at: 1, socket: stale, decoded: { type: 'control', control: { code: 'identity', control: true } } },
      { type: 'closed', at: 1, socket: stale, code: 4004, reason: '', jitter: 0 },
    ] as const satisfies readonly MachineInput[]) {
      const result = step(state, input, cfg)
      expect(result.effects).toEqual([])
      expect(result.state).toEqual(state)
    }
  })
})

// resume against a model server with a history: it stamps each published event with its own
// clock, sends it live to every connection past `ready`, replays its whole history in a random
// order on `send_all`, and can drop at any moment. Its clock is the client's plus a skew: the
// client's clock must not matter. Events come in bursts: a `tie` shares the millisecond of the
// event before it (a producer stamping a burst at once), and eids are random, so their order
// says nothing of the publish order. The machine's own deliveries are checked, without the
// interpreter's dedupe: the mark remembers the eids at its timestamp (bursts here stay below
// `MaxTiedEids`), so nothing is offered twice.
type ResumeAction =
  | { readonly kind: 'drop' | 'reconnect' | 'open' | 'identity' | 'ready' | 'done' | 'fire' | 'handshake' | 'junk' | 'flawed' }
  | { readonly kind: 'publish'; readonly tie: boolean; readonly key: string }
  | { readonly kind: 'wait'; readonly ms: number }
  /** The next `n` events of the replay under way (the original server's history, shuffled). */
  | { readonly kind: 'replay'; readonly n: number }

const resumeAction: fc.Arbitrary<ResumeAction> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ tie: fc.boolean(), key: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 4, maxLength: 4 }) }).map(
      ({ tie, key }): ResumeAction => ({ kind: 'publish', tie, key }),
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom<ResumeAction>({ kind: 'drop' }, { kind: 'reconnect' }) },
  { weight: 6, arbitrary: fc.constantFrom<ResumeAction>({ kind: 'open' }, { kind: 'identity' }, { kind: 'ready' }, { kind: 'done' }, { kind: 'fire' }) },
  { weight: 3, arbitrary: fc.constant<ResumeAction>({ kind: 'handshake' }) },
  { weight: 1, arbitrary: fc.constantFrom<ResumeAction>({ kind: 'junk' }, { kind: 'flawed' }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 3_000 }).map((ms): ResumeAction => ({ kind: 'wait', ms })) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }).map((n): ResumeAction => ({ kind: 'replay', n })) },
)

/**
 * How the model server's payloads reach the machine. `undefined`: each as its own `decoded`
 * input at once. Otherwise they gather into frames (publishes, `ready` with its replay,
 * `done_prior` and junk segments run together until any other action) fed when the frame ends,
 * at that time: `one` as an empty `frame` input (the frame's time) and a `decoded` input per
 * payload, `frame` as one `frame` input with its payloads, which must mean exactly the same.
 */
type Grouping = undefined | 'one' | 'frame'

interface ResumeRun {
  readonly delivered: string[]
  readonly published: { eid: string; ts: number; afterFirstReady: boolean }[]
  readonly firstReadyTs: number | undefined
  /** Every event delivered in order (before the dedupe), and every other effect, in order. */
  readonly offered: string[]
  readonly others: Effect[]
  readonly state: MachineState
  /** A replay was cut by its timer before the server had sent all of it: its rest came as it came. */
  readonly cut: boolean
}

function runResume(actions: readonly ResumeAction[], seed: number, skewMs: number, grouping?: Grouping): ResumeRun {
  const cfg = resolveOptions({ url: 'ws://127.0.0.1:9/ws', id: '42', token, rateWindowMs: WindowMs, backoff: { maxAttempts: Infinity, initialDelayMs: 100, maxDelayMs: 1_000 } })
  let now = 1_700_000_000_000
  let state = initialState(now)
  let random = seed
  const shuffle = <T>(items: T[]): T[] => {
    for (let i = items.length - 1; i > 0; i--) {
      random = (random * 1_103_515_245 + 12_345) % 2 ** 31
      const j = random % (i + 1)
      ;[items[i], items[j]] = [items[j] as T, items[i] as T]
    }
    return items
  }
  const published: { eid: string; ts: number; afterFirstReady: boolean }[] = []
  const delivered: string[] = []
  const offered: string[] = []
  const others: Effect[] = []
  // Every delivery the machine makes, offered; delivered through an eid dedupe, as connect()
  // does (`EventIdMemory`): a resume after a replay that a drop cut before `done_prior` starts
  // from the gap again, and offers again what the cut replay delivered.
  const seen = new Set<string>()
  const pass = (event: ReceivedEvent): void => {
    const eid = event.m.eid ?? ''
    offered.push(`${eid}${event.resumed === true ? ' resumed' : ''}${event.prior === true ? ' prior' : ''}`)
    if (seen.has(eid)) return
    seen.add(eid)
    delivered.push(eid)
  }
  const timers = new Map<TimerName, number>()
  let socket:
    | { id: number; opened: boolean; sendAll: boolean | undefined; ready: boolean; donePending: boolean; replay: { eid: string; ts: number }[] }
    | undefined
  let firstReadyTs: number | undefined
  let cut = false
  const queue: MachineInput[] = []
  const feed = (input: MachineInput): void => {
    queue.push(input)
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const result = step(state, next, cfg)
      state = result.state
      for (const effect of result.effects) {
        if (effect.type === 'read-credentials') queue.push({ type: 'credentials', at: now, url: 'ws://x/ws', id: '42', token })
        else if (effect.type === 'then') queue.push(effect.input)
        else if (effect.type === 'open') socket = { id: effect.socket, opened: false, sendAll: undefined, ready: false, donePending: false, replay: [] }
        else if (effect.type === 'close-socket' && socket?.id === effect.socket) socket = undefined
        else if (effect.type === 'send') socket = socket && { ...socket, sendAll: (JSON.parse(effect.text) as { send_all: boolean }).send_all }
        else if (effect.type === 'arm') timers.set(effect.timer, now + effect.ms)
        else if (effect.type === 'cancel') timers.delete(effect.timer)
        if (effect.type === 'deliver') pass(effect.event)
        else if (effect.type === 'deliver-live') effect.events.forEach(pass)
        else others.push(effect)
      }
    }
  }
  let frame: { socket: number; payloads: Decoded[] } | undefined
  const flush = (): void => {
    if (frame === undefined) return
    const { socket: id, payloads } = frame
    frame = undefined
    if (grouping === 'frame') feed({ type: 'frame', at: now, socket: id, payloads })
    else {
      // A frame is its time (an empty frame) and then its payloads, each on its own.
      feed({ type: 'frame', at: now, socket: id, payloads: [] })
      for (const decoded of payloads) feed({ type: 'decoded', at: now, socket: id, decoded })
    }
  }
  const sendDecoded = (decoded: Decoded): void => {
    if (socket === undefined) return
    if (grouping === undefined) return feed({ type: 'decoded', at: now, socket: socket.id, decoded })
    if (frame === undefined) frame = { socket: socket.id, payloads: [] }
    frame.payloads.push(decoded)
  }
  const send = (payload: ControlPayload | ReceivedEvent): void =>
    sendDecoded('control' in payload ? { type: 'control' as const, control: payload } : { type: 'event' as const, event: payload })
  const eventOf = (p: { eid: string; ts: number }): ReceivedEvent => ({ m: { e: 0, eid: p.eid, ts: p.ts }, ctx: {} })
  const act = (a: ResumeAction): void => {
    // A frame ends at anything but what the server may send in one: a publish, a ready and its
    // replay, a done_prior, a junk segment.
    if (a.kind !== 'publish' && a.kind !== 'ready' && a.kind !== 'replay' && a.kind !== 'done' && a.kind !== 'junk' && a.kind !== 'flawed') flush()
    switch (a.kind) {
      case 'publish': {
        if (!a.tie || published.length === 0) now += 1
        // A tie shares the instant of the event before it, unless the first ready came between
        // them (an event stamped before the mark starts is the producers' clock assumption that
        // `resume` documents, not a tie).
        const after = firstReadyTs !== undefined
        const previous = a.tie ? published.at(-1) : undefined
        const ts = previous !== undefined && previous.afterFirstReady === after ? previous.ts : (now + skewMs) / 1000
        const p = { eid: `${a.key}-${published.length}`, ts, afterFirstReady: after }
        published.push(p)
        if (socket?.ready === true) send(eventOf(p))
        break
      }
      case 'drop':
        if (socket === undefined) break
        feed({ type: 'closed', at: now, socket: socket.id, code: 1006, reason: '', jitter: 0.5 })
        socket = undefined
        break
      case 'reconnect':
        feed({ type: 'reconnect', at: now })
        break
      case 'open':
        if (socket !== undefined && !socket.opened) {
          socket.opened = true
          feed({ type: 'opened', at: now, socket: socket.id })
        }
        break
      case 'identity':
        if (socket?.opened === true && socket.sendAll === undefined) send({ code: 'identity', control: true, requests_remaining: -1 })
        break
      case 'ready': {
        if (socket === undefined || socket.sendAll === undefined || socket.ready) break
        socket.ready = true
        // The server's ready carries its clock in whole seconds, as the protocol's does.
        const ts = Math.floor((now + skewMs) / 1000)
        firstReadyTs ??= ts
        send({ code: 'ready', control: true, ts, requests_remaining: 18 })
        // The history comes a few events at a time ('replay'), live events among them, and a
        // drop can cut it anywhere, as the original's goroutines and a real network do.
        if (socket.sendAll) {
          socket.replay = shuffle([...published])
          socket.donePending = true
        }
        break
      }
      case 'replay':
        for (let i = 0; i < a.n && socket !== undefined && socket.replay.length > 0; i++) send(eventOf(socket.replay.shift() as { eid: string; ts: number }))
        break
      case 'done':
        if (socket?.donePending !== true || socket.replay.length > 0) break
        socket.donePending = false
        send({ code: 'done_prior', control: true, requests_remaining: 18 })
        break
      case 'fire': {
        const earliest = [...timers.entries()].sort((x, y) => x[1] - y[1])[0]
        if (earliest === undefined) break
        now = Math.max(now, earliest[1])
        timers.delete(earliest[0])
        if (earliest[0] === 'replay' && socket !== undefined && socket.replay.length > 0) cut = true
        feed({ type: 'timer', at: now, timer: earliest[0], jitter: 0.5 })
        break
      }
      case 'wait':
        now += a.ms
        break
      case 'handshake':
        for (const kind of ['open', 'identity', 'ready'] as const) act({ kind })
        break
      case 'junk':
        // A segment that is no payload: decided on its own, in its place in the frame.
        sendDecoded({ type: 'diagnostic', diagnostic: { kind: 'not-json', message: 'Unexpected end of JSON input', raw: '{' } })
        break
      case 'flawed':
        // An event with a diagnostic: delivered, but decided on its own.
        if (socket?.ready === true) {
          now += 1
          const p = { eid: `junk-${published.length}`, ts: (now + skewMs) / 1000, afterFirstReady: firstReadyTs !== undefined }
          published.push(p)
          sendDecoded({ type: 'event', event: eventOf(p), diagnostic: { kind: 'unsafe-number', message: 'm.eid rounded', raw: '' } })
        }
        break
    }
  }
  feed({ type: 'subscribed', at: now })
  for (const a of actions) act(a)
  flush()
  // Then the network heals: the client gets back to live with nothing pending.
  const heal: ResumeAction[] = [{ kind: 'open' }, { kind: 'identity' }, { kind: 'ready' }, { kind: 'replay', n: Infinity }, { kind: 'done' }]
  for (let i = 0; i < 1_000 && !(state.status.state === 'live' && socket?.donePending === false); i++) {
    for (const a of heal) act(a)
    flush()
    if (socket === undefined) act({ kind: 'fire' })
  }
  flush()
  expect(state.status.state).toBe('live')
  return { delivered, published, firstReadyTs, offered, others, state, cut }
}

/**
 * The events delivered out of `m.ts` order (the model's clock stamps them in publish order)
 * that the run does not allow: none, unless a replay was cut by its timer (the rest of it then
 * comes as it comes, as `replay-cut` says), and even then only replayed events.
 */
function outOfOrder(run: ResumeRun): string[] {
  const stamps = new Map(run.published.map((p) => [p.eid, p.ts]))
  let newest = -Infinity
  const late: string[] = []
  for (const eid of run.delivered) {
    const ts = stamps.get(eid) ?? NaN
    if (ts < newest) late.push(eid)
    else newest = ts
  }
  const replayed = (eid: string): boolean => run.offered.some((offer) => offer === `${eid} resumed` || offer === `${eid} prior`)
  return run.cut ? late.filter((eid) => !replayed(eid)) : late
}

describe('resume (properties over random histories with drops)', () => {
  it('delivers every event published after the first ready exactly once, in order, and none from before its second, whatever the client’s clock or ties', () => {
    fc.assert(
      fc.property(fc.array(resumeAction, { minLength: 20, maxLength: 150, size: 'max' }), fc.nat(), fc.integer({ min: -60_000, max: 60_000 }), (actions, seed, skewMs) => {
        const run = runResume(actions, seed, skewMs)
        const { delivered, offered, published, firstReadyTs } = run
        // Offered again only by a replay (a resume starts from the gap again after a replay that
        // a drop cut), never as a live event: the dedupe is for replays.
        const eidOf = (offer: string): string => offer.split(' ')[0] as string
        expect(offered.filter((offer, i) => !offer.includes(' ') && offered.findIndex((o) => eidOf(o) === offer) < i)).toEqual([])
        const got = new Set(delivered)
        // Every event published after the first ready, ties with the mark included.
        expect(published.filter((p) => p.afterFirstReady && !got.has(p.eid))).toEqual([])
        // In publish order: by m.ts, the order the model's clock stamps them in.
        expect(outOfOrder(run)).toEqual([])
        // ready's ts is whole seconds: what came within its second may be taken for the gap.
        expect(published.filter((p) => got.has(p.eid) && !p.afterFirstReady && firstReadyTs !== undefined && p.ts < firstReadyTs)).toEqual([])
        expect(published.filter((p) => got.has(p.eid) && firstReadyTs === undefined)).toEqual([])
      }),
      { numRuns: 300 },
    )
  })
})

describe('a frame as one input (properties over random histories with drops)', () => {
  it('means exactly what its payloads as decoded inputs one by one mean: the same state, the same events in the same order, the same other effects', () => {
    fc.assert(
      fc.property(fc.array(resumeAction, { minLength: 20, maxLength: 150, size: 'max' }), fc.nat(), fc.integer({ min: -60_000, max: 60_000 }), (actions, seed, skewMs) => {
        const one = runResume(actions, seed, skewMs, 'one')
        const framed = runResume(actions, seed, skewMs, 'frame')
        expect(framed.offered).toEqual(one.offered)
        expect(framed.others).toEqual(one.others)
        expect(framed.state).toEqual(one.state)
      }),
      { numRuns: 300 },
    )
  })

  it('delivers every event published after the first ready once, in order, when frames carry many payloads', () => {
    fc.assert(
      fc.property(fc.array(resumeAction, { minLength: 20, maxLength: 150, size: 'max' }), fc.nat(), fc.integer({ min: -60_000, max: 60_000 }), (actions, seed, skewMs) => {
        const run = runResume(actions, seed, skewMs, 'frame')
        const { delivered, published } = run
        const got = new Set(delivered)
        expect(published.filter((p) => p.afterFirstReady && !got.has(p.eid))).toEqual([])
        expect(outOfOrder(run)).toEqual([])
      }),
      { numRuns: 200 },
    )
  })

  it('delivers a live frame in one deliver-live effect and moves the mark once, to where the events one by one move it', () => {
    const cfg = resolveOptions({ url: 'ws://127.0.0.1:9/ws', id: '42', token })
    let state = initialState(0)
    const feed = (input: MachineInput): readonly Effect[] => {
      const result = step(state, input, cfg)
      state = result.state
      return result.effects
    }
    feed({ type: 'subscribed', at: 0 })
    feed({ type: 'credentials', at: 0, url: 'ws://x/ws', id: '42', token })
    feed({ type: 'open-now', at: 0 })
    feed({ type: 'opened', at: 0, socket: 1 })
    feed({ type: 'decoded', at: 0, socket: 1, decoded: { type: 'control', control: { code: 'identity', control: true } } })
    feed({ type: 'decoded', at: 0, socket: 1, decoded: { type: 'control', control: { code: 'ready', control: true, ts: 0 } } })
    expect(state.status.state).toBe('live')
    const events = [1, 3, 2].map((ts): ReceivedEvent => ({ m: { e: 0, eid: `e${ts}`, ts }, ctx: {} }))
    const effects = feed({ type: 'frame', at: 5_000, socket: 1, payloads: events.map((event) => ({ type: 'event' as const, event })) })
    expect(effects).toEqual([{ type: 'deliver-live', events }])
    expect(state.watermark).toMatchObject({ ts: 3, eid: 'e3' })
    // From an older socket: nothing.
    expect(feed({ type: 'frame', at: 5_000, socket: 0, payloads: events.map((event) => ({ type: 'event' as const, event })) })).toEqual([])
  })
})
