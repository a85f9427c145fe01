/**
 * The consumers the in-process sections compare, each fed one frame at a time as a socket
 * would feed it.
 *
 * @packageDocumentation
 */
import { connect, dedupeEvents, fromFrames, type WebSocketLike } from '@fates-rx/core'
import { decodePayload } from '@fates-rx/core/sans-io'
import { ControlCode, Protocol, redactor } from '@fates-rx/core/protocol'
import { controlPayload } from '@fates-rx/core/testing'
import { Subject, Subscription } from 'rxjs'
import { parseFrame, type BaselineCount } from './baseline.js'

/** A consumer of frames. */
export interface FrameConsumer {
  push(frame: string): void
  /** Payloads delivered so far (events after dedupe, when it dedupes). */
  delivered(): number
  close(): void
}

/**
 * What `connect()` redacts: a token the corpus never holds, made as Fates List made its API
 * tokens (`get_token(132)`: 132 characters drawn from the ASCII letters and digits).
 */
export const BenchToken = 'eQ3NNzMmqHO2hKCxs5IDa0cIU1NqOJwP5ByXWmozMmfYIyJyusoyVo2zFwCea6TmtY6QJvkfFVgOQrxnhOTljmT5iz9utjdBfFsyQmKpFbOUR79YOUXjiQNPcXjOpNfqMMhi'

/** `fromFrames` with one subscriber on each of `control$` and `event$`, optionally deduplicating or redacting a token. */
function pipeline(dedupe: boolean, redact = false): FrameConsumer {
  const frame$ = new Subject<string>()
  const { control$, event$ } = fromFrames(frame$, redact ? { redact: redactor(BenchToken) } : {})
  let delivered = 0
  const subscriptions = new Subscription()
  subscriptions.add(control$.subscribe(() => delivered++))
  const deduped$ = dedupe ? event$.pipe(dedupeEvents()) : event$
  subscriptions.add(deduped$.subscribe(() => delivered++))
  return {
    push: (frame) => frame$.next(frame),
    delivered: () => delivered,
    close: () => subscriptions.unsubscribe(),
  }
}

/**
 * A socket inside this process, for `connect()`'s `WebSocket` option: it hands frames to the
 * client synchronously, so that connect()'s own cost is measured without the network, `ws`
 * and the other process that section 2 adds.
 */
class InProcessSocket implements WebSocketLike {
  /** The socket the last `connect()` opened. */
  static last: InProcessSocket | undefined
  onopen: WebSocketLike['onopen'] = null
  onmessage: WebSocketLike['onmessage'] = null
  onclose: WebSocketLike['onclose'] = null
  onerror: WebSocketLike['onerror'] = null
  identified = false

  constructor(_url: string) {
    InProcessSocket.last = this
  }

  send(): void {
    this.identified = true
  }

  close(code = 1000): void {
    this.onclose?.({ code, reason: '' })
  }
}

const control = (code: string, remaining: number): string => JSON.stringify(controlPayload(code, { requestsRemaining: remaining }))

/**
 * `connect()` over {@link InProcessSocket}: handshake done, then one subscriber on each of
 * `control$` and `event$` (and on `diagnostic$`, calling `onDiagnostic`, when given).
 * `connectWith`: another build's `connect` (`compare.ts` measures two builds), this one's by default.
 */
export function connectInProcess(onDiagnostic?: () => void, connectWith: typeof connect = connect): FrameConsumer {
  const client = connectWith({ url: 'ws://in-process.invalid/ws', id: '811073947382579200', token: BenchToken, WebSocket: InProcessSocket })
  let delivered = 0
  let ready = false
  const subscriptions = new Subscription()
  subscriptions.add(
    client.control$.subscribe((c) => {
      if (ready) delivered++
      else if (c.code === 'ready') ready = true
    }),
  )
  subscriptions.add(client.event$.subscribe(() => delivered++))
  if (onDiagnostic !== undefined) subscriptions.add(client.diagnostic$.subscribe(onDiagnostic))
  const socket = InProcessSocket.last
  if (socket === undefined) throw new Error('connect() opened no socket')
  socket.onopen?.({})
  socket.onmessage?.({ data: control(ControlCode.Identity, Protocol.unidentifiedRequestsRemaining) })
  if (!socket.identified) throw new Error('connect() did not identify')
  socket.onmessage?.({ data: control(ControlCode.Ready, Protocol.rateLimit - Protocol.identifyCost) })
  if (!ready) throw new Error('connect() did not reach ready')
  return {
    push: (frame) => socket.onmessage?.({ data: frame }),
    delivered: () => delivered,
    close() {
      subscriptions.unsubscribe()
      client.close()
    },
  }
}

/**
 * Resolves once `connect()`'s ctx check (a chunk of its own, loaded by the first client that
 * checks) is loaded in this process. A page has it a few milliseconds after `connect()`, long
 * before its socket has opened; a bench that pushes frames without yielding never would, and
 * would measure each event queued for a check that has not loaded, which no app does. So the
 * synchronous sections call this first. Proved by a diagnostic: an event whose ctx does not
 * fit, pushed through a client, is reported only by the loaded check.
 */
export async function loadConnectChecks(timeoutMs = 5_000, connectWith: typeof connect = connect): Promise<void> {
  const unfit = { m: { e: 0, eid: '00000000-0000-4000-8000-000000000000', ts: Date.now() / 1000 }, ctx: { user: '1', votes: 'many' } }
  let consumer: FrameConsumer | undefined
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`connect()'s ctx check did not load within ${timeoutMs} ms`)), timeoutMs)
      consumer = connectInProcess(() => {
        clearTimeout(timer)
        resolve()
      }, connectWith)
      consumer.push(JSON.stringify(unfit))
    })
  } finally {
    consumer?.close()
  }
}

/** The consumers by name; the first is the baseline. */
export const consumers = {
  /** split + skip empty + `JSON.parse`: the limit. */
  baseline(): FrameConsumer {
    const count: BaselineCount = { payloads: 0, controls: 0 }
    return { push: (frame) => parseFrame(frame, count), delivered: () => count.payloads, close() {} }
  },
  /** split + core's `decodePayload` (parse + validate) in a plain loop: validation without RxJS. */
  decodeLoop(): FrameConsumer {
    let delivered = 0
    return {
      push(frame) {
        const segments = frame.split(Protocol.separator)
        for (let i = 0; i < segments.length; i++) {
          const segment = segments[i] as string
          if (segment.length === 0) continue
          if (decodePayload(segment).type !== 'diagnostic') delivered++
        }
      },
      delivered: () => delivered,
      close() {},
    }
  },
  /** `fromFrames`, one subscriber on each of `control$` and `event$`. */
  fromFrames: (): FrameConsumer => pipeline(false),
  /** The same, redacting a token (absent from the corpus, as it is from real traffic): per segment, a scan for a backslash and one for a character of the token. */
  fromFramesRedact: (): FrameConsumer => pipeline(false, true),
  /** The same with `dedupeEvents()` (default capacity) on `event$`. */
  fromFramesDedupe: (): FrameConsumer => pipeline(true),
  /**
   * Redacting and deduplicating: the pipeline doing what `connect()` does to each frame, less
   * its machine, its counters and its resume mark (its row tells those apart from redaction).
   */
  fromFramesRedactDedupe: (): FrameConsumer => pipeline(true, true),
  /** `connect()` (which always deduplicates) over an in-process socket. */
  connectInProcess,
} as const satisfies Record<string, () => FrameConsumer>

/** A consumer's name. */
export type ConsumerName = keyof typeof consumers

/** What each consumer is called in the results. */
export const ConsumerLabel: Readonly<Record<ConsumerName, string>> = {
  baseline: 'baseline split+parse',
  decodeLoop: 'split+decodePayload loop (no RxJS)',
  fromFrames: 'fromFrames',
  fromFramesRedact: 'fromFrames, redacting a token',
  fromFramesDedupe: 'fromFrames + dedupeEvents',
  fromFramesRedactDedupe: 'fromFrames + dedupeEvents, redacting a token',
  connectInProcess: 'connect() over an in-process socket',
}
