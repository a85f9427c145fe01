import type { ControlPayload, ReceivedEvent } from '../../codec/codecs.js'
import type { Decoded, Diagnostic } from '../../operators/diagnostic.js'
import type { IdentifyBudget } from '../policies/identify-budget.js'
import type { ResolvedOptions } from '../options.js'
import type { ConnectionStatus } from './status.js'
import type { Watermark } from './watermark.js'

// The connection machine's vocabulary: what happens to it (inputs), what it asks for (effects)
// and what it knows (state). A module of its own so that the machine (machine.ts), the
// decisions every handler shares (decision.ts) and the handlers by concern (handshake.ts,
// replay.ts, retry.ts) all import it without importing each other in a circle.

/** The timers the machine arms, by name; at most one of each is armed at a time. */
export type TimerName = 'retry' | 'handshake' | 'liveness' | 'stable' | 'replay'

/** What happens to the machine. Every input carries the time it happened (`at`, ms). */
export type MachineInput =
  /**
   * The first subscriber came. `from`: the newest event this client's streams already delivered
   * elsewhere (a tab taking over a shared connection): the first connection then fills the gap
   * since it, as a reconnect does.
   */
  | { readonly type: 'subscribed'; readonly at: number; readonly from?: Watermark }
  | { readonly type: 'unsubscribed'; readonly at: number }
  | { readonly type: 'close'; readonly at: number }
  | { readonly type: 'reconnect'; readonly at: number }
  | { readonly type: 'online'; readonly at: number }
  | { readonly type: 'credentials'; readonly at: number; readonly url: string; readonly id: string; readonly token: string }
  | { readonly type: 'credentials-failed'; readonly at: number; readonly detail: string }
  | { readonly type: 'open-now'; readonly at: number }
  | { readonly type: 'opened'; readonly at: number; readonly socket: number }
  /**
   * A frame of that socket, received `at`: every segment of it decoded (`decodePayload`), in
   * order (none for a frame of separators only). The input connect() gives, one per frame,
   * split and decoded as it arrives: the frame's time is then the time it arrived. Its payloads
   * mean exactly what as many `decoded` inputs in a row would: the frame's plain live events
   * are delivered in one `deliver-live` effect and move the mark once, and any other payload is
   * decided as its own `decoded` input would be, in its place (a control payload may change the
   * phase mid-frame).
   */
  | { readonly type: 'frame'; readonly at: number; readonly socket: number; readonly payloads: readonly Decoded[] }
  /** One segment of a frame of that socket, decoded (`decodePayload`): a frame's payload on its own. */
  | { readonly type: 'decoded'; readonly at: number; readonly socket: number; readonly decoded: Decoded }
  | {
      readonly type: 'closed'
      readonly at: number
      readonly socket: number
      readonly code: number
      readonly reason: string
      /** What the socket knows of a failure to connect (never the token). */
      readonly error?: string
      /** The HTTP status of a refused upgrade, where the runtime tells it. */
      readonly httpStatus?: number
      /** A number in [0, 1) for the backoff's jitter. */
      readonly jitter: number
    }
  | { readonly type: 'timer'; readonly at: number; readonly timer: TimerName; readonly jitter: number }

/** What the interpreter must do. The machine returns them in the order they must happen. */
export type Effect =
  | { readonly type: 'read-credentials' }
  | { readonly type: 'open'; readonly socket: number; readonly url: string; readonly token: string }
  | { readonly type: 'send'; readonly socket: number; readonly text: string }
  | { readonly type: 'close-socket'; readonly socket: number }
  | { readonly type: 'arm'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'cancel'; readonly timer: TimerName }
  | { readonly type: 'status'; readonly status: ConnectionStatus }
  | { readonly type: 'control'; readonly payload: ControlPayload }
  | { readonly type: 'deliver'; readonly event: ReceivedEvent }
  /**
   * Deliver these events, in order, as one `deliver` effect each would: the live events of one
   * `frame` input that no decision held back (the hot path, one effect per frame).
   */
  | { readonly type: 'deliver-live'; readonly events: readonly ReceivedEvent[] }
  | { readonly type: 'diagnostic'; readonly diagnostic: Diagnostic }
  | { readonly type: 'count'; readonly reconnect: string }
  | { readonly type: 'ready-after'; readonly ms: number }
  /** Feed this input next, after any input user code queued while the effects ran. */
  | { readonly type: 'then'; readonly input: MachineInput }

/** Events held back during a replay, newest first: appending shares the older cells. */
export interface HeldReplay {
  readonly event: ReceivedEvent
  readonly older: HeldReplay | undefined
}

/** Where one connection is, from reading its credentials to live. */
export type Phase = 'reading' | 'ready-to-open' | 'opening' | 'awaiting-identity' | 'awaiting-ready' | 'replaying' | 'live'

/** The one connection the machine may have. */
export interface Connection {
  /** Its number: inputs from an older socket are ignored. */
  readonly socket: number
  readonly phase: Phase
  readonly startedAt: number
  readonly url: string
  readonly id: string
  readonly token: string
  /** When the socket opened (or the attempt began): quiet since then counts for liveness. */
  readonly openedAt: number
  /** The detail of an `invalid_auth` / `invalid_payload` / `ratelimited` payload, for the close that follows. */
  readonly errorDetail: string | undefined
  /** The replay held until `done_prior` to order it, and how many. */
  readonly held: HeldReplay | undefined
  readonly heldCount: number
  /** Set when a held replay was cut short: later replayed events are still treated as replayed. */
  readonly priorUntilDone: boolean
  /** A resumed connection: its replay passes on only events newer than this mark. */
  readonly resumeFrom: Watermark | undefined
  /**
   * The mark this connection's replay gives once it is whole (`done_prior`), moved by its
   * events in the order they arrived; until then the state's mark stays where the gap began.
   * Undefined before the replay moved it.
   */
  readonly replayMark: Watermark | undefined
  /** The replay held an event stamped at or before `resumeFrom`: it reached back over the whole gap. */
  readonly reachedMark: boolean
  /**
   * The server's `resume` payload's `channels`: per channel, `exact` when its replay is exactly
   * what followed the position sent (`after`), else why not. Undefined until one arrives.
   */
  readonly exact: Readonly<Record<string, string>> | null | undefined
}

/**
 * Everything the client knows, in one immutable value. Every field is always present (maybe
 * `undefined`), so that every state has one shape: a step's `{ ...state, lastFrameAt }` per
 * frame then stays on V8's fast path for copying objects.
 */
export interface MachineState {
  /** The last status emitted: its `state` is the public state. */
  readonly status: ConnectionStatus
  /** Some stream has a subscriber. */
  readonly subscribed: boolean
  /** `close()` was called and no `reconnect()` since. */
  readonly stopped: boolean
  /** Failed attempts since the last stable connection. */
  readonly failures: number
  /** Consecutive upgrades refused with an HTTP 4xx. */
  readonly refusals: number
  readonly budget: IdentifyBudget
  readonly requestsRemaining: number | undefined
  readonly lastFrameAt: number | undefined
  /**
   * The newest event delivered (moved only with `resume`; `prior` history never moves it). Set
   * at the first `ready`, to its `ts`, so it also says that the client has been connected:
   * every later connection fills a gap.
   */
  readonly watermark: Watermark | undefined
  /** While `reconnecting`: what the wait is for (only a backoff may be cut short by `online`). */
  readonly retry: 'backoff' | 'budget' | undefined
  readonly connection: Connection | undefined
  /** The number the next socket gets. */
  readonly nextSocket: number
}

/** The options the machine decides by. */
export type MachineConfig = Pick<
  ResolvedOptions,
  | 'bot'
  | 'resume'
  | 'sendAll'
  | 'sendNone'
  | 'backoff'
  | 'identityTimeoutMs'
  | 'readyTimeoutMs'
  | 'livenessTimeoutMs'
  | 'orderReplay'
  | 'maxReplayHeld'
  | 'replayTimeoutMs'
  | 'rateWindowMs'
  | 'minIdentifySpacingMs'
>

/** What one step returns. */
export interface Step {
  readonly state: MachineState
  readonly effects: readonly Effect[]
}

/** The input of type `T`, as a handler of that input receives it. */
export type InputOf<T extends MachineInput['type']> = Extract<MachineInput, { type: T }>

/** What a status carries besides its state and time. */
export type Extra = Omit<ConnectionStatus, 'state' | 'since'>
