import { asyncScheduler, BehaviorSubject, Observable, Subject, type Subscription } from 'rxjs'
// Each module from its own file, not an index: an index re-exports the ctx check and the
// context codecs too, and a bundler's code splitting would download them up front.
import type { ControlPayload, ReceivedEvent } from '../../codec/codecs.js'
import { redactor } from '../../codec/redact.js'
import { explainRoughly } from '../../codec/shape.js'
import { decodeSegment, type EventCheck, type Explain } from '../../operators/decode-segment.js'
import { EventIdMemory } from '../../operators/dedupe-events.js'
import type { Decoded, Diagnostic } from '../../operators/diagnostic.js'
import { forEachSegment } from '../../operators/split-frames.js'
import { type SocketSignal, webSocket$ } from '../../socket/index.js'
import { initialState, type MachineInput, step, type TimerName, type Watermark } from './machine.js'
import type { PersistInput } from '../persist/persist-machine.js'
import type { Layer, Stepper } from '../persist/persist.js'
import { type Counters, count, metricsOf, NoCounts } from './counters.js'
import type { ConnectionMetrics } from './metrics.js'
import { type ConnectOptions, credentialsProblem, type PerAttempt, type ResolvedOptions, resolveOptions } from '../options.js'
import { Fanout } from '../fanout.js'
import { refCounted } from '../ref-counted.js'
import { serially } from '../serially.js'
import type { ConnectionStatus } from './status.js'
import type { FatesClient } from '../fates-client.js'

export type { FatesClient } from '../fates-client.js'

// The checks' chunk: the ctx check (`checkContexts`) and the codecs' full explanation of a
// rejected segment, with io-ts itself, so that what every app downloads up front carries only
// this loader. Loaded once per page: by connect() when it checks contexts (the default), else by
// the first rejected segment; `undefined` until then, when a rejected segment is explained by
// the name of the shape it missed alone.
let contextCheck: EventCheck | undefined
let explainShape: Explain | undefined
let contextCheckLoading: Promise<EventCheck | undefined> | undefined
const loadContextCheck = (): Promise<EventCheck | undefined> =>
  (contextCheckLoading ??= import('../../operators/context-check.js').then(
    (module) => {
      explainShape = module.explainShape
      return (contextCheck = module.contextMismatch)
    },
    // A chunk that failed to load (a flaky network, a new deployment) must not cost the events.
    () => undefined,
  ))
const explain = (value: unknown): string => {
  if (explainShape !== undefined) return explainShape(value)
  void loadContextCheck()
  return explainRoughly(value)
}

function read<T>(value: PerAttempt<T>): T {
  return typeof value === 'function' ? (value as () => T)() : value
}

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
  const persist = config.persist
  const make = (layer?: Layer): FatesClient => shared(options, config, layer)
  // persist is its own chunk too; one that failed to load costs the record, not the connection.
  return persist === false ? make() : later(import('../persist/persist.js').then(({ persisted }) => persisted(persist, config, make, step), () => make()))
}

/**
 * The client, shared across tabs if asked for; each tab's own client steps through `layer`
 * (persist's), else through the one the sharing code gives (its kept identify budget).
 */
function shared(options: ConnectOptions, config: ResolvedOptions, layer?: Layer): FatesClient {
  const sharing = options.shareAcrossTabs
  if (sharing === undefined || sharing === false) return open(options, config, undefined, layer)
  // The sharing code is its own chunk, loaded now (before the first subscription needs it):
  // an app that never shares never downloads it.
  return later(
    import('../tabs/tabs.js').then(
      ({ shareAcrossTabs }) =>
        shareAcrossTabs(sharing, config, (from, kept) => open(options, config, from, layer ?? kept), options.scheduler ?? asyncScheduler, options.random ?? Math.random, step),
      // A chunk that failed to load (a flaky network, a new deployment) must not cost the connection.
      () => open(options, config, undefined, layer),
    ),
  )
}

/**
 * A client that is still loading, as one: each stream subscribes to the loaded client's once it
 * is there (so `status$` replays from then), and `close()` / `reconnect()` wait for it, in order.
 */
function later(loading: Promise<FatesClient>): FatesClient {
  let loaded: FatesClient | undefined
  void loading.then((client) => (loaded = client))
  const stream = <T>(pick: (client: FatesClient) => Observable<T>): Observable<T> =>
    new Observable<T>((subscriber) => {
      let inner: Subscription | undefined
      let done = false
      loading.then(
        (client) => {
          // Stryker disable next-line ConditionalExpression: equivalent for every client there is: their streams (refCounted) start nothing for a subscriber already closed, and rxjs ends what it subscribed; this keeps a late subscription from being made at all (connect.later.test.ts sees no socket either way).
          if (!done) inner = pick(client).subscribe(subscriber)
        },
        // Stryker disable next-line ArrowFunction: unreachable: both imports have a fallback, and `persisted` and `shareAcrossTabs` return a client, never throw; kept so that a future throw reaches the subscriber rather than vanishing.
        (error: unknown) => subscriber.error(error),
      )
      // Stryker disable next-line BlockStatement: equivalent: rxjs adds the inner subscription to `subscriber`, so it ends with it.
      return () => {
        // Stryker disable next-line BooleanLiteral: equivalent, as `!done` above.
        done = true
        inner?.unsubscribe()
      }
    })
  const call = (act: (client: FatesClient) => void): void => {
    if (loaded === undefined) void loading.then(act)
    else act(loaded)
  }
  return {
    frame$: stream((client) => client.frame$),
    control$: stream((client) => client.control$),
    event$: stream((client) => client.event$),
    diagnostic$: stream((client) => client.diagnostic$),
    status$: stream((client) => client.status$),
    metrics$: stream((client) => client.metrics$),
    close: () => call((client) => client.close()),
    reconnect: () => call((client) => client.reconnect()),
  }
}

/**
 * This tab's own client. `from`: resume after it on the first connection (a tab taking over a
 * shared connection). `layer`: steps the machine through it (`persist`).
 */
function open(options: ConnectOptions, config: ResolvedOptions, from?: Watermark, layer?: Layer): FatesClient {
  // The interpreter of machine.ts: it feeds the machine its inputs one at a time and performs
  // each step's effects before the next input. Input that user code gives while effects run
  // (a subscriber calling close() inside next()) waits in the queue for its turn, so every
  // subscriber sees the same statuses in the same order and no state is ever half-changed.
  const scheduler = options.scheduler ?? asyncScheduler
  const random = options.random ?? Math.random
  const now = (): number => scheduler.now()

  let state = initialState(now())
  const frame$ = new Subject<string>()
  const control$ = new Subject<ControlPayload>()
  const event$ = new Fanout<ReceivedEvent>()
  const diagnostic$ = new Subject<Diagnostic>()
  const status$ = new BehaviorSubject<ConnectionStatus>(state.status)

  // The metrics: the effects performed (and what the interpreter observed), folded by count().
  let counters: Counters = NoCounts
  const snapshot = (): ConnectionMetrics => metricsOf(counters, state.lastFrameAt)
  const metrics$ = new Subject<ConnectionMetrics>()
  let metricsTimer: Subscription | undefined
  const publishMetrics = (): void => {
    metricsTimer?.unsubscribe()
    metricsTimer = undefined
    metrics$.next(snapshot())
  }

  // The pipeline, made of the exported pieces that the operators are made of, without an
  // observable hop per payload: each frame is split (forEachSegment, splitFrames' loop) and
  // each segment decoded (decodeSegment, decodePayloads' step without io-ts) into one `frame` input; the
  // machine's deliveries pass the eid memory under dedupeEvents into event$. One memory for the
  // client's lifetime, so that replays after reconnects are deduplicated.
  // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: equivalent: every socket is opened by an `open` effect, which sets the redactor from its token before the socket's first frame; this one only serves a frame that cannot come.
  let redactedToken = typeof config.token === 'string' ? config.token : undefined
  let redact = redactor(redactedToken)
  const memory = new EventIdMemory(config.dedupeCapacity)
  // The frame being split: its segments, decoded (one function for every frame, not a closure each).
  // Stryker disable next-line ArrayDeclaration: equivalent: replaced at every frame before it is read.
  let decoded: Decoded[] = []
  const decodeOne = (segment: string): void => void decoded.push(decodeSegment(segment, undefined, undefined, explain))
  const report = (diagnostic: Diagnostic): void => {
    counters = count(counters, { type: 'diagnostic', diagnostic })
    // Published within the interval: a mismatch reported once the checks' chunk has loaded may come after the frame's publication.
    if (metricsTimer === undefined && state.subscribed) metricsTimer = scheduler.schedule(publishMetrics, config.metricsIntervalMs)
    diagnostic$.next(diagnostic)
  }
  // Stryker disable next-line ConditionalExpression: a prefetch, timing only: a delivery loads the check itself when it is not there yet (and in the test process it is, after the first test).
  if (config.checkContexts) void loadContextCheck()
  const checkContext = (event: ReceivedEvent, check: EventCheck | undefined): void => {
    const mismatch = check?.(event)
    if (mismatch !== undefined) report(mismatch)
  }
  const timers = new Map<TimerName, Subscription>()
  const cancel = (timer: TimerName): void => {
    timers.get(timer)?.unsubscribe()
    timers.delete(timer)
  }
  let socket: { readonly id: number; subscription?: Subscription; send?: (text: string) => void } | undefined

  // With persist, its layer steps the machine (and performs the store's effects itself).
  const run = (layer?.((input) => dispatch(input), now) ?? step) as Stepper
  const { dispatch, later: enqueue } = serially<PersistInput>((input) => {
    const result = run(state, input, config)
    state = result.state
    // Indexed, here and in the frame's loops: a for-of allocated an iterator and a result object
    // per item wherever V8 had not yet optimised the loop (measured by the heap sampler).
    const effects = result.effects
    for (let i = 0; i < effects.length; i++) perform(effects[i] as (typeof effects)[number])
  })

  const onSignal = (id: number, signal: SocketSignal): void => {
    const at = now()
    switch (signal.type) {
      case 'open':
        // Stryker disable next-line ConditionalExpression,OptionalChaining: equivalent: a socket's signals stop when it is closed (its subscription ends), so an `open` is always the current socket's.
        if (socket?.id === id) socket.send = signal.send
        dispatch({ type: 'opened', at, socket: id })
        return
      case 'frame': {
        // Decoded as it arrives, then given to the machine whole (one input per frame).
        // Redacted whole before splitting: once per frame, not per segment, and every segment,
        // and so everything decoded from it, is already free of the token.
        const clean = redact(signal.data)
        // Stryker disable next-line ConditionalExpression: equivalent: a Subject with no observers drops the value; the check saves the call on the hot path.
        if (frame$.observed) frame$.next(clean)
        decoded = []
        forEachSegment(clean, decodeOne)
        counters = count(counters, { type: 'decoded', text: signal.data, bytes: signal.bytes, payloads: decoded.length })
        dispatch({ type: 'frame', at, socket: id, payloads: decoded })
        if (metricsTimer === undefined && state.subscribed) metricsTimer = scheduler.schedule(publishMetrics, config.metricsIntervalMs)
        return
      }
      case 'close':
        // Stryker disable next-line ConditionalExpression,EqualityOperator,OptionalChaining: equivalent: only the current socket's close arrives (as above), and a forgotten socket is only let go sooner; `send` and `close-socket` check the id anyway.
        if (socket?.id === id) socket = undefined
        dispatch({
          type: 'closed',
          at,
          socket: id,
          code: signal.code,
          reason: signal.reason,
          jitter: random(),
          // Stryker disable next-line ConditionalExpression: equivalent: the machine reads an absent and an undefined `error` alike; the spread keeps the input exact for exactOptionalPropertyTypes.
          ...(signal.error === undefined ? {} : { error: signal.error }),
          // Stryker disable next-line ConditionalExpression: as `error` above.
          ...(signal.httpStatus === undefined ? {} : { httpStatus: signal.httpStatus }),
        })
        return
    }
  }

  const perform = (effect: ReturnType<typeof step>['effects'][number]): void => {
    counters = count(counters, effect)
    switch (effect.type) {
      case 'read-credentials': {
        let values: { url: string; id: string; token: string }
        try {
          values = { token: read(config.token), id: read(config.id), url: read(config.url) }
        } catch {
          enqueue({ type: 'credentials-failed', at: now(), detail: 'Reading the url, id or token option threw; fix the function and call reconnect().' })
          return
        }
        const problem = credentialsProblem(values)
        enqueue(problem === undefined ? { type: 'credentials', at: now(), ...values } : { type: 'credentials-failed', at: now(), detail: `Bad connection option: ${problem}.` })
        return
      }
      case 'open': {
        // Stryker disable next-line ConditionalExpression: equivalent: a new redactor for the same token redacts the same; the check saves building it per reconnect.
        if (effect.token !== redactedToken) {
          redactedToken = effect.token
          redact = redactor(effect.token)
        }
        const id = effect.socket
        const opened: NonNullable<typeof socket> = { id }
        socket = opened
        // A socket that fails at once reports its close during subscribe(): then it is gone
        // already, and the subscription returned is closed.
        opened.subscription = webSocket$(effect.url, config.WebSocket).subscribe({
          next: (signal) => onSignal(id, signal),
          // webSocket$ reports failures as a close signal; this guards against a WebSocket that
          // throws where none should (a frozen one: connect.behaviour.test.ts).
          error: () => onSignal(id, { type: 'close', code: 1006, reason: '' }),
        })
        return
      }
      case 'send':
        // Stryker disable next-line ConditionalExpression,OptionalChaining: equivalent: the machine sends only on the socket it saw open, which is the current one and has `send`.
        if (socket?.id === effect.socket) socket.send?.(effect.text)
        return
      case 'close-socket':
        // Stryker disable next-line ConditionalExpression,OptionalChaining: equivalent: the machine closes only the socket it opened, which is the current one.
        if (socket?.id === effect.socket) {
          // Stryker disable next-line OptionalChaining: equivalent: a socket that failed during subscribe() is forgotten by its close signal before the machine could close it.
          socket.subscription?.unsubscribe()
          socket = undefined
        }
        return
      case 'arm':
        cancel(effect.timer)
        timers.set(
          effect.timer,
          scheduler.schedule(() => {
            timers.delete(effect.timer)
            dispatch({ type: 'timer', at: now(), timer: effect.timer, jitter: random() })
          }, effect.ms),
        )
        return
      case 'cancel':
        cancel(effect.timer)
        return
      case 'status':
        // The page's listeners only while waiting to reconnect, the one state in which they act:
        // a client closed (close(), the last subscriber gone) or failed is held by nothing of
        // the page's, its subscribers with it. (A listener added twice is added once.)
        if (config.reconnectOnOnline) {
          const listen = effect.status.state === 'reconnecting' ? browser.addEventListener : browser.removeEventListener
          listen?.('online', online)
          listen?.('visibilitychange', visibility)
        }
        status$.next(effect.status)
        publishMetrics()
        return
      case 'control':
        control$.next(effect.payload)
        return
      case 'deliver':
      case 'deliver-live': {
        // Through the eid memory into event$; counted once for the effect (a whole frame's live events).
        const events = effect.type === 'deliver' ? [effect.event] : effect.events
        let passed = 0
        let resumed = 0
        for (let i = 0; i < events.length; i++) {
          const event = events[i] as ReceivedEvent
          const eid = event.m.eid
          if (eid !== undefined && !memory.firstSight(eid)) continue
          passed++
          if (event.resumed === true) resumed++
          // Checked before the event, so that a subscriber to both hears why before ofEvent
          // leaves it out; until the check's chunk has loaded (a few ms after connect(), before
          // any socket is likely open), each event is checked once it has.
          if (config.checkContexts) {
            if (contextCheck !== undefined) checkContext(event, contextCheck)
            else void loadContextCheck().then((check) => checkContext(event, check))
          }
          event$.next(event)
        }
        counters = count(counters, { type: 'passed', offered: events.length, events: passed, resumed })
        return
      }
      case 'diagnostic':
        diagnostic$.next(effect.diagnostic)
        return
      case 'then':
        enqueue(effect.input)
        return
    }
  }

  const online = (): void => dispatch({ type: 'online', at: now() })
  const visibility = (): void => {
    // Stryker disable next-line OptionalChaining: equivalent: visibilitychange fires only in a page, which has a document; the `?.` is for the types (a worker has neither).
    if ((globalThis as { document?: { visibilityState?: string } }).document?.visibilityState === 'visible') online()
  }
  // Node has no window events: the optional calls let the same code run in both.
  const browser = globalThis as unknown as {
    addEventListener?: (type: string, listener: () => void) => void
    removeEventListener?: (type: string, listener: () => void) => void
  }

  // Every public stream counts as a subscriber of the connection: the first opens it, the
  // last closes it.
  const lazy = refCounted(
    () => {
      // Stryker disable next-line ConditionalExpression: equivalent: the machine reads an absent and an undefined `from` alike (the spelling is for exactOptionalPropertyTypes).
      dispatch(from === undefined ? { type: 'subscribed', at: now() } : { type: 'subscribed', at: now(), from })
      from = undefined
    },
    () => {
      metricsTimer?.unsubscribe()
      metricsTimer = undefined
      dispatch({ type: 'unsubscribed', at: now() })
    },
  )

  return {
    frame$: lazy(frame$),
    control$: lazy(control$),
    event$: lazy(event$.observable),
    diagnostic$: lazy(diagnostic$),
    status$: lazy(status$),
    // The counts as they are now to each new subscriber, not as last published (a BehaviorSubject's).
    metrics$: lazy(new Observable<ConnectionMetrics>((subscriber) => (subscriber.next(snapshot()), metrics$.subscribe(subscriber)))),
    close: () => dispatch({ type: 'close', at: now() }),
    reconnect: () => dispatch({ type: 'reconnect', at: now() }),
  }
}
