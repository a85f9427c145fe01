import type { ReceivedEvent } from '../codec/codecs.js'
import { contextCodecOf } from '../codec/contexts.js'
import { describeErrors } from '../codec/describe-errors.js'
import { type Diagnostic, MaxDiagnosticRaw } from './diagnostic.js'
import { looksLikeContext } from './context-guard.js'

// The ctx check on its own, without RxJS: connect() loads it as a chunk of its own
// (`checkContexts`), and an operator's imports would drag RxJS's operator machinery into what
// every app downloads up front.

/** The least an event needs to be checked: a name `m.e` and a context. */
interface Checkable {
  readonly m: { readonly e: number }
  readonly ctx: unknown
}

/** True when `event`'s ctx fits the context codec of its name. */
export function fits(event: Checkable): boolean {
  const e = event.m.e
  const ctx = event.ctx
  // The fast guard first: the commonest contexts without io-ts's closures. (Equivalent
  // mutants, left counted: the guard never asked (`false`, or a `typeof` against ''): the codec
  // gives the same answer, only slower.)
  return typeof ctx === 'object' && ctx !== null && looksLikeContext(e, ctx as Record<string, unknown>)
    ? true
    : contextCodecOf(e).is(ctx)
}

/**
 * A `ctx-mismatch` diagnostic when `event`'s ctx does not fit the context codec of its name
 * (`{"votes":"lots"}` for a vote), else `undefined`. The message names paths and expected
 * types, never values; `raw` is the event as delivered (already redacted by the client).
 *
 * @example
 * contextMismatch({ m: { e: EventName.BotVote }, ctx: { user: '1', votes: 'lots' } })
 * // { kind: 'ctx-mismatch', message: 'event 0: ctx.votes: expected Integer (…)', raw: '{"m":…' }
 */
export function contextMismatch(event: ReceivedEvent): Diagnostic | undefined {
  if (fits(event)) return undefined
  const codec = contextCodecOf(event.m.e)
  const result = codec.decode(event.ctx)
  // (Equivalent mutants, left counted: the other branch, and its text: `fits` falls back on the
  // same codec's `is`, so a ctx it refused never decodes.)
  const why = result._tag === 'Left' ? describeErrors(result.left) : `(root): expected ${codec.name}`
  // describeErrors names paths inside the ctx: say whose they are.
  const paths = why
    .split('; ')
    .map((line) => (line.startsWith('(root)') ? `ctx${line.slice(6)}` : `ctx.${line}`))
    .join('; ')
  let raw = ''
  try {
    raw = JSON.stringify(event).slice(0, MaxDiagnosticRaw)
  } catch {
    // Nested too deep to re-serialise (JSON.parse takes any depth, JSON.stringify overflows the
    // stack near 10,000 levels): a hostile ctx costs its `raw`, never the event and its frame.
  }
  return {
    kind: 'ctx-mismatch',
    message: `event ${event.m.e}: ${paths} (on event$, left out by ofEvent and isEvent)`,
    raw,
  }
}

// The same chunk explains rejected segments for connect(): the codecs are here already.
export { explainShape } from '../codec/explain.js'
