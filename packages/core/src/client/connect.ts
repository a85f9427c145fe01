import {
  asyncScheduler,
  BehaviorSubject,
  Observable,
  Subject,
  type Subscription,
} from 'rxjs'
import { type ControlPayload, type ReceivedEvent, redactor } from '../codec/index.js'
import { type Decoded, decodePayload, type Diagnostic, EventIdMemory, forEachSegment } from '../operators/index.js'
import { closeMeaning, closePolicy, ControlCode, Protocol } from '../protocol/index.js'
import { type SocketSignal, webSocket$ } from '../socket/index.js'
import { backoffDelay } from './backoff.js'
import {
  afterIdentify,
  afterRatelimited,
  afterReport,
  type IdentifyBudget,
  type IdentifyBudgetConfig,
  identifyWait,
} from './identify-budget.js'
import { type ConnectionMetrics, utf8Length } from './metrics.js'
import { type ConnectOptions, credentialsProblem, identifyMessage, type PerAttempt, resolveOptions } from './options.js'
import { type CloseDetails, type ConnectionState, type ConnectionStatus, canTransition } from './status.js'

/** A lazy connection to the Fates List websocket, as streams. */
export interface FatesClient {
  /** Every text frame as received (before splitting), with the token replaced by `[redacted]` if a server echoed it. */
  readonly frame$: Observable<string>
  /** Every control payload (`identity`, `ready`, `done_prior`, errors, unknown codes), details redacted. */
  readonly control$: Observable<ControlPayload>
  /** Every event once (deduplicated by `m.eid`), `prior: true` on a `sendAll` replay. */
  readonly event$: Observable<ReceivedEvent>
  /** Segments that could not be delivered as they were (see {@link Diagnostic}). */
  readonly diagnostic$: Observable<Diagnostic>
  /** The connection's state; replays the current one to each new subscriber. */
  readonly status$: Observable<ConnectionStatus>
  /** Counters; replays the current ones, then emits on change (throttled) and on status change. */
  readonly metrics$: Observable<ConnectionMetrics>
  /** Closes the connection (1000) and stays `closed` until `reconnect()`. */
  close(): void
  /**
   * Connects again now: after `failed`, after giving up, after `close()`, or to replace a
   * working connection. The attempt count restarts; the ratelimit budget is still respected.
   * With no subscriber it only clears a `close()`: the next subscription connects.
   */
  reconnect(): void
}

interface Connection {
  subscription?: Subscription
  send?: (text: string) => void
  phase: 'opening' | 'awaiting-identity' | 'awaiting-ready' | 'replaying' | 'live'
  readonly startedAt: number
  readonly id: string
  readonly token: string
  handshakeTimer?: Subscription
  livenessTimer?: Subscription
  /** When the socket opened or its last frame arrived (ms), for the liveness check. */
  lastActivity: number
  stableTimer?: Subscription
  /** The detail of an `invalid_auth` / `invalid_payload` / `ratelimited` payload, for the close that follows. */
  errorDetail?: string
  replay: ReceivedEvent[]
  dead: boolean
}

function read<T>(value: PerAttempt<T>): T {
  return typeof value === 'function' ? (value as () => T)() : value
}

/** What ended a connection, for the status that follows. */
type Cause = Pick<ConnectionStatus, 'close'>

const byTs = (a: ReceivedEvent, b: ReceivedEvent): number =>
  (a.m.ts ?? -Infinity) - (b.m.ts ?? -Infinity)

/**
 * Connects to the Fates List websocket. Lazy: nothing opens until the first subscription to
 * any of the streams; the socket closes when the last subscriber leaves or on `close()`.
 * It answers `identity` with the identify message, reconnects by the close-code policy with
 * backoff, never spends the ratelimit it cannot afford, and delivers each event once.
 *
 * Throws a `ConnectOptionsError` at the call for a bad option (never echoing the token).
 *
 * @example
 * const client = connect({ url: 'wss://api.fateslist.xyz/api/dragon/ws/', id: '811073947382579200', token })
 * client.event$.subscribe((event) => console.log(eventLabel(event.m.e), event.ctx))
 * client.status$.subscribe((status) => console.log(status.state, status.detail ?? ''))
 */
export function connect(options: ConnectOptions): FatesClient {
  const config = resolveOptions(options)
  const scheduler = options.scheduler ?? asyncScheduler
  const random = options.random ?? Math.random
  const now = (): number => scheduler.now()
  const budgetConfig: IdentifyBudgetConfig = {
    windowMs: config.rateWindowMs,
    minSpacingMs: config.minIdentifySpacingMs,
  }

  const frame$ = new Subject<string>()
  const control$ = new Subject<ControlPayload>()
  const event$ = new Subject<ReceivedEvent>()
  const diagnostic$ = new Subject<Diagnostic>()
  const status$ = new BehaviorSubject<ConnectionStatus>({
    state: 'closed',
    since: now(),
    detail: 'Not opened yet: the connection opens on the first subscription.',
  })

  // The metrics themselves, mutable; each emission is a copy.
  const counters: { -readonly [K in keyof ConnectionMetrics]: ConnectionMetrics[K] } & { reconnects: Record<string, number> } = {
    frames: 0,
    bytes: 0,
    payloads: 0,
    events: 0,
    duplicates: 0,
    diagnostics: 0,
    reconnects: {},
  }
  const snapshot = (): ConnectionMetrics => ({ ...counters, reconnects: { ...counters.reconnects } })
  const metrics$ = new BehaviorSubject<ConnectionMetrics>(snapshot())
  let metricsTimer: Subscription | undefined
  const publishMetrics = (): void => {
    metricsTimer?.unsubscribe()
    metricsTimer = undefined
    metrics$.next(snapshot())
  }
  const metricsChanged = (): void => {
    if (metricsTimer === undefined && refs > 0) {
      metricsTimer = scheduler.schedule(publishMetrics, config.metricsIntervalMs)
    }
  }

  let refs = 0
  let stoppedByUser = false
  let conn: Connection | undefined
  let retryTimer: Subscription | undefined
  let retryKind: 'backoff' | 'budget' | undefined
  let failures = 0
  let budget: IdentifyBudget = {}
  let requestsRemaining: number | undefined
  // Redacts the token of the current attempt; replaced when a token function gives a new one.
  let redactedToken = typeof config.token === 'string' ? config.token : undefined
  let redact = redactor(redactedToken)

  // The state machine's only writer: every transition is checked against the table.
  const move = (state: ConnectionState, extra: Omit<ConnectionStatus, 'state' | 'since'> = {}): void => {
    const from = status$.value.state
    if (!canTransition(from, state)) {
      throw new Error(`fates-rx: internal error, transition ${from} → ${state} is not in the table`)
    }
    status$.next({
      state,
      since: now(),
      ...(requestsRemaining === undefined ? {} : { requestsRemaining }),
      ...(counters.lastFrameAt === undefined ? {} : { lastFrameAt: counters.lastFrameAt }),
      ...extra,
    })
    publishMetrics()
  }

  // The pipeline of fromFrames() and dedupeEvents(), run as plain calls of the same pure
  // functions (forEachSegment, decodePayload, EventIdMemory): per payload that saves the
  // subscriber chains of four operators and two subjects, most of the client's own cost.
  // One memory for the client's lifetime, so that replays after reconnects are deduplicated.
  const seen = new EventIdMemory(config.dedupeCapacity)
  const onSegment = (segment: string): void => onDecoded(decodePayload(segment, redact))

  const deliver = (event: ReceivedEvent): void => {
    const eid = event.m.eid
    if (eid !== undefined && !seen.firstSight(eid)) {
      counters.duplicates++
      return
    }
    counters.events++
    event$.next(event)
  }

  const flushReplay = (c: Connection): void => {
    if (c.replay.length === 0) return
    const held = c.replay
    c.replay = []
    held.sort(byTs)
    for (const event of held) deliver(event)
  }

  const endConnection = (c: Connection): void => {
    c.dead = true
    c.handshakeTimer?.unsubscribe()
    c.livenessTimer?.unsubscribe()
    c.stableTimer?.unsubscribe()
    c.subscription?.unsubscribe()
    if (conn === c) conn = undefined
    // Events already received are real: deliver a partial replay rather than lose it. Last,
    // because it runs subscribers' code, which must find the connection already gone.
    flushReplay(c)
  }

  const clearRetry = (): void => {
    retryTimer?.unsubscribe()
    retryTimer = undefined
    retryKind = undefined
  }

  // Every emission runs user code, and a subscriber may close(), reconnect() or leave from
  // inside it. After one, the caller's plan is stale when any of these says so: it must not
  // move the state on (the table rightly forbids, say, closed → live) or arm a timer.
  const superseded = (): boolean => refs === 0 || stoppedByUser || conn !== undefined || retryTimer !== undefined

  const countReconnect = (key: string): void => {
    counters.reconnects[key] = (counters.reconnects[key] ?? 0) + 1
  }

  const waitThen = (waitMs: number, kind: 'backoff' | 'budget', extra: Omit<ConnectionStatus, 'state' | 'since'>): void => {
    clearRetry()
    retryKind = kind
    move('reconnecting', { attempt: failures, delayMs: waitMs, nextRetryAt: now() + waitMs, ...extra })
    if (superseded()) return
    retryTimer = scheduler.schedule(() => {
      retryTimer = undefined
      retryKind = undefined
      attempt()
    }, waitMs)
  }

  const retryAfterBackoff = (cause: Cause, detail: string): void => {
    if (failures >= config.backoff.maxAttempts) {
      move('failed', { ...cause, detail: `Gave up after ${failures} reconnection attempts. Last: ${detail}` })
      return
    }
    failures++
    const delay = backoffDelay(failures, config.backoff, random)
    const wait = identifyWait(budget, now(), budgetConfig)
    const budgetLonger = wait.waitMs > delay
    waitThen(budgetLonger ? wait.waitMs : delay, budgetLonger ? 'budget' : 'backoff', {
      ...cause,
      detail: budgetLonger && wait.reason !== undefined ? `${detail} Then: ${wait.reason}` : detail,
    })
  }

  // Ends the connection and any pending retry.
  const drop = (): void => {
    if (conn !== undefined) endConnection(conn)
    clearRetry()
  }

  const fail = (detail: string, cause: Cause = {}): void => {
    drop()
    move('failed', { ...cause, detail })
  }

  const attempt = (): void => {
    if (refs === 0 || stoppedByUser) return
    const wait = identifyWait(budget, now(), budgetConfig)
    if (wait.waitMs > 0) {
      waitThen(wait.waitMs, 'budget', wait.reason === undefined ? {} : { detail: wait.reason })
      return
    }
    let url: string
    let id: string
    let token: string
    try {
      token = read(config.token)
      id = read(config.id)
      url = read(config.url)
    } catch {
      fail('Reading the url, id or token option threw; fix the function and call reconnect().')
      return
    }
    const problem = credentialsProblem({ url, id, token })
    if (problem !== undefined) {
      fail(`Bad connection option: ${problem}.`)
      return
    }
    if (token !== redactedToken) {
      redactedToken = token
      redact = redactor(token)
    }
    const startedAt = now()
    const c: Connection = { phase: 'opening', startedAt, lastActivity: startedAt, id, token, replay: [], dead: false }
    conn = c
    move('connecting', { attempt: failures })
    if (c.dead) return
    armHandshake(c, config.identityTimeoutMs, `No identity payload within ${config.identityTimeoutMs} ms.`)
    const subscription = webSocket$(url, config.WebSocket).subscribe({
      next: (signal) => onSignal(c, signal),
      // webSocket$ reports failures as a close signal; this only guards against a surprise.
      error: () => onSignal(c, { type: 'close', code: 1006, reason: '' }),
    })
    if (c.dead) subscription.unsubscribe()
    else c.subscription = subscription
  }

  // The step of the handshake the connection waits for must come within `ms`.
  const armHandshake = (c: Connection, ms: number, detail: string): void => {
    c.handshakeTimer?.unsubscribe()
    c.handshakeTimer = scheduler.schedule(() => timedOut(c, 'timeout', detail), ms)
  }

  const timedOut = (c: Connection, key: string, detail: string): void => {
    if (c !== conn) return
    endConnection(c)
    countReconnect(key)
    if (superseded()) return
    retryAfterBackoff({}, detail)
  }

  // One timer per quiet period, not one per frame: each frame only notes the time, and the
  // timer, when it fires, either finds the connection quiet for long enough or waits out the
  // rest. (Rescheduling per frame costs a setInterval and a clearInterval per frame.)
  const armLiveness = (c: Connection): void => {
    if (config.livenessTimeoutMs <= 0) return
    c.livenessTimer = scheduler.schedule(() => checkLiveness(c), config.livenessTimeoutMs)
  }
  const checkLiveness = (c: Connection): void => {
    if (c !== conn) return
    const quiet = now() - c.lastActivity
    if (quiet >= config.livenessTimeoutMs) timedOut(c, 'liveness', `No frame for ${config.livenessTimeoutMs} ms.`)
    else c.livenessTimer = scheduler.schedule(() => checkLiveness(c), config.livenessTimeoutMs - quiet)
  }

  const onSignal = (c: Connection, signal: SocketSignal): void => {
    if (c !== conn) return
    switch (signal.type) {
      case 'open':
        c.send = signal.send
        c.phase = 'awaiting-identity'
        c.lastActivity = now()
        move('identifying', { attempt: failures })
        if (!c.dead) armLiveness(c)
        return
      case 'frame': {
        counters.frames++
        counters.bytes += utf8Length(signal.data)
        c.lastActivity = counters.lastFrameAt = now()
        // Redacting scans the whole frame: only for someone who reads frame$.
        if (frame$.observed) frame$.next(redact(signal.data))
        forEachSegment(signal.data, onSegment)
        metricsChanged()
        return
      }
      case 'close':
        onClose(c, signal.code, signal.reason)
        return
    }
  }

  const onDecoded = (decoded: Decoded): void => {
    counters.payloads++
    switch (decoded.type) {
      case 'control': {
        // The connection it came on: a control$ subscriber may reconnect() from inside next().
        const c = conn
        control$.next(decoded.control)
        if (c !== undefined && c === conn) onControl(c, decoded.control)
        return
      }
      case 'event': {
        const c = conn
        if (c !== undefined && c.phase === 'replaying') {
          const prior: ReceivedEvent = { ...decoded.event, prior: true }
          // Held until done_prior so that it can be delivered in m.ts order.
          if (config.orderReplay) c.replay.push(prior)
          else deliver(prior)
        } else deliver(decoded.event)
        if (decoded.diagnostic !== undefined) report(decoded.diagnostic)
        return
      }
      case 'diagnostic':
        report(decoded.diagnostic)
        return
    }
  }

  const report = (diagnostic: Diagnostic): void => {
    counters.diagnostics++
    diagnostic$.next(diagnostic)
  }

  const onControl = (c: Connection, payload: ControlPayload): void => {
    // -1 is what the server reports before identification (identity, invalid_auth,
    // invalid_payload): no information about the budget. Only a ratelimited payload's -1 is real.
    const remaining = payload.requests_remaining
    if (
      remaining !== undefined &&
      (remaining !== Protocol.unidentifiedRequestsRemaining || payload.code === ControlCode.Ratelimited)
    ) {
      requestsRemaining = remaining
      budget = afterReport(budget, remaining)
    }
    switch (payload.code) {
      case ControlCode.Identity: {
        if (c.phase !== 'awaiting-identity' || c.send === undefined) return
        c.send(identifyMessage(c.id, c.token, config))
        budget = afterIdentify(budget, now(), budgetConfig)
        c.phase = 'awaiting-ready'
        armHandshake(c, config.readyTimeoutMs, `No ready payload within ${config.readyTimeoutMs} ms of identifying.`)
        return
      }
      case ControlCode.Ready: {
        if (c.phase !== 'awaiting-ready') return
        c.handshakeTimer?.unsubscribe()
        counters.connectToReadyMs = now() - c.startedAt
        c.stableTimer = scheduler.schedule(() => {
          failures = 0
        }, config.backoff.resetAfterMs)
        if (config.sendAll) {
          c.phase = 'replaying'
          move('replaying')
        } else {
          c.phase = 'live'
          move('live')
        }
        return
      }
      case ControlCode.DonePrior: {
        if (c.phase !== 'replaying') return
        flushReplay(c)
        if (c.dead) return
        c.phase = 'live'
        move('live')
        return
      }
      case ControlCode.InvalidAuth:
      case ControlCode.InvalidPayload:
      case ControlCode.Ratelimited:
        c.errorDetail = `${payload.code}: ${payload.detail ?? ''}`.trim()
        return
      default:
        return
    }
  }

  const onClose = (c: Connection, code: number, rawReason: string): void => {
    const close: CloseDetails = { code, reason: redact(rawReason), meaning: closeMeaning(code) }
    const policy = closePolicy(code)
    // A 4012 is a fact about the budget whatever happens next.
    if (policy.action === 'cooldown') budget = afterRatelimited(budget, now(), budgetConfig)
    endConnection(c)
    if (superseded()) return
    switch (policy.action) {
      case 'fail':
        fail(c.errorDetail ?? `${close.meaning} ${policy.why}`, { close })
        return
      case 'cooldown': {
        countReconnect(String(code))
        const wait = identifyWait(budget, now(), budgetConfig)
        waitThen(wait.waitMs, 'budget', {
          close,
          detail: c.errorDetail === undefined ? (wait.reason ?? policy.why) : `${c.errorDetail}. Then: ${wait.reason ?? policy.why}`,
        })
        return
      }
      case 'backoff':
        countReconnect(String(code))
        retryAfterBackoff({ close }, c.errorDetail ?? policy.why)
        return
    }
  }

  const closeWith = (detail: string): void => {
    drop()
    if (status$.value.state !== 'closed') move('closed', { detail })
  }

  const stop = (): void => {
    // The next subscriber starts afresh, as if the client were new (the budget is kept).
    failures = 0
    metricsTimer?.unsubscribe()
    metricsTimer = undefined
    closeWith('No subscribers left.')
  }

  const online = (): void => {
    if (status$.value.state === 'reconnecting' && retryKind === 'backoff') {
      clearRetry()
      attempt()
    }
  }
  const visibility = (): void => {
    if ((globalThis as { document?: { visibilityState?: string } }).document?.visibilityState === 'visible') online()
  }
  const browser = globalThis as unknown as {
    addEventListener?: (type: string, listener: () => void) => void
    removeEventListener?: (type: string, listener: () => void) => void
  }
  // Node has no window events; guard so that the same code runs in both.
  const listen = config.reconnectOnOnline && typeof browser.addEventListener === 'function'

  const acquire = (): void => {
    refs++
    if (refs !== 1) return
    if (listen) {
      browser.addEventListener?.('online', online)
      browser.addEventListener?.('visibilitychange', visibility)
    }
    // attempt() itself stays away after close().
    if (status$.value.state === 'closed') attempt()
  }
  const release = (): void => {
    refs--
    if (refs !== 0) return
    if (listen) {
      browser.removeEventListener?.('online', online)
      browser.removeEventListener?.('visibilitychange', visibility)
    }
    stop()
  }

  // Every public stream counts as a subscriber of the connection: the first opens it, the
  // last closes it. Subscribing before acquiring lets a status$ subscriber see the start.
  // (The new Observable also hides the subject: no asObservable() needed.)
  const lazy = <T>(source: Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      const inner = source.subscribe(subscriber)
      // `status$.pipe(take(1))` reads the replayed state and is done before it counts: opening
      // a socket only to close it in the same tick would cost a TCP (and TLS) handshake.
      if (subscriber.closed) return inner
      acquire()
      return () => {
        inner.unsubscribe()
        release()
      }
    })

  return {
    frame$: lazy(frame$),
    control$: lazy(control$),
    event$: lazy(event$),
    diagnostic$: lazy(diagnostic$),
    status$: lazy(status$),
    metrics$: lazy(metrics$),
    close(): void {
      stoppedByUser = true
      closeWith('Closed by the user.')
    },
    reconnect(): void {
      stoppedByUser = false
      failures = 0
      if (conn !== undefined) {
        endConnection(conn)
        countReconnect('manual')
      }
      clearRetry()
      if (refs === 0) return
      const state = status$.value.state
      if (state !== 'closed' && state !== 'failed' && state !== 'reconnecting') {
        move('reconnecting', { attempt: 0, delayMs: 0, nextRetryAt: now(), detail: 'reconnect() was called.' })
      }
      attempt()
    },
  }
}
