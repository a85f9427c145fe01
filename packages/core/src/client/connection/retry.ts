import { closeMeaning } from '../../protocol/close.js'
import { closePolicy, MaxRefusedUpgrades, refusalAction, RefusalWhy, SlowRetry } from '../../protocol/close-policy.js'
import { redactCut, redactSecret } from '../../codec/redact.js'
import { backoffDelay } from '../policies/backoff.js'
import { afterRatelimited, identifyWait } from '../policies/identify-budget.js'
import {
  at,
  budgetConfig,
  cancelRetry,
  closeWith,
  config,
  emit,
  endConnection,
  fail,
  move,
  next,
  set,
} from './decision.js'
import type { Connection, Extra, InputOf } from './machine-types.js'
import type { CloseDetails } from './status.js'
import { older } from './watermark.js'

// When to connect, and again: the user's calls (subscribe, close, reconnect), the page coming
// online, a closed socket judged by the close and refusal policies, and the waits between
// attempts (backoff, identify budget). Handlers of the machine's table (machine.ts).

/** Waits `waitMs` as `reconnecting`, then the retry timer attempts again. */
function waitThen(waitMs: number, kind: 'backoff' | 'budget', extra: Extra): void {
  cancelRetry()
  move('reconnecting', { attempt: next.failures, delayMs: waitMs, nextRetryAt: at + waitMs, ...extra })
  set({ retry: kind })
  emit({ type: 'arm', timer: 'retry', ms: waitMs })
}

/**
 * Counts a failed attempt and waits the backoff (or the budget, if longer), or gives up.
 * `reconnect`: the metrics key of what ended the connection, counted only when it is replaced
 * (giving up replaces nothing).
 */
export function retryAfterBackoff(jitter: number, cause: Extra, detail: string, reconnect: string): void {
  const failures = next.failures
  if (failures >= config.backoff.maxAttempts) {
    move('failed', { ...cause, detail: `Gave up after ${failures} reconnection attempts. Last: ${detail}` })
    return
  }
  emit({ type: 'count', reconnect })
  set({ failures: failures + 1 })
  const delay = backoffDelay(failures + 1, config.backoff, () => jitter)
  const wait = identifyWait(next.budget, at, budgetConfig())
  const budgetLonger = wait.waitMs > delay
  waitThen(budgetLonger ? wait.waitMs : delay, budgetLonger ? 'budget' : 'backoff', {
    ...cause,
    // Stryker disable next-line ConditionalExpression: the reason check's `true` is equivalent: identifyWait gives a reason with every positive wait, and a longer budget wait is positive.
    detail: budgetLonger && wait.reason !== undefined ? `${detail} Then: ${wait.reason}` : detail,
  })
}

/** Connects if it may: subscribed, not stopped, and the identify budget allows it now. */
function attempt(): void {
  if (!next.subscribed || next.stopped) return
  const wait = identifyWait(next.budget, at, budgetConfig())
  if (wait.waitMs > 0) {
    // Stryker disable next-line ConditionalExpression: `false` is equivalent: a positive wait (this branch) always has a reason.
    waitThen(wait.waitMs, 'budget', wait.reason === undefined ? {} : { detail: wait.reason })
    return
  }
  const socket = next.nextSocket
  set({
    nextSocket: socket + 1,
    connection: {
      socket,
      phase: 'reading',
      startedAt: at,
      // Stryker disable StringLiteral: placeholders, equivalent: `credentials` sets all three before anything reads them.
      url: '',
      id: '',
      token: '',
      // Stryker restore StringLiteral
      openedAt: at,
      errorDetail: undefined,
      held: undefined,
      heldCount: 0,
      priorUntilDone: false,
      resumeFrom: undefined,
      replayMark: undefined,
      reachedMark: false,
      exact: undefined,
    },
  })
  emit({ type: 'read-credentials' })
}

/** A wait without answer: the connection ends and counts as a failed attempt. */
export function timedOut(key: string, detail: string, jitter: number): void {
  endConnection(true)
  retryAfterBackoff(jitter, {}, detail, key)
}

/** The first subscriber came: connect, resuming from `from` if given. */
export function subscribed(input: InputOf<'subscribed'>, connection: Connection | undefined): void {
  set(config.resume && input.from !== undefined ? { subscribed: true, watermark: older(next.watermark, input.from) } : { subscribed: true })
  if (next.status.state === 'closed' && connection === undefined) attempt()
}

/** The last subscriber left: the next starts afresh, as if the client were new (the budget is kept). */
export function unsubscribed(): void {
  set({ subscribed: false, failures: 0, watermark: undefined })
  closeWith('No subscribers left.')
}

/** `close()`: stopped until `reconnect()`. */
export function close(): void {
  // Closed already (never opened, or its last subscriber left) and not stopped: it stays
  // closed for the next subscriber now, and its status must stop saying otherwise.
  const restate = !next.stopped && next.status.state === 'closed'
  set({ stopped: true })
  closeWith('Closed by the user.')
  if (restate) move('closed', { detail: 'Closed by the user.' })
}

/** `reconnect()`: a fresh connection now, whatever the current one is doing. */
export function reconnect(_input: InputOf<'reconnect'>, connection: Connection | undefined): void {
  set({ stopped: false, failures: 0 })
  if (connection !== undefined) {
    endConnection(true)
    emit({ type: 'count', reconnect: 'manual' })
  }
  cancelRetry()
  // Stryker disable next-line ConditionalExpression: `false` is equivalent: an unsubscribed client is `closed` (the last unsubscribe closes it), so no move is made, and attempt() checks `subscribed` itself.
  if (!next.subscribed) return
  const current = next.status.state
  if (current !== 'closed' && current !== 'failed' && current !== 'reconnecting') {
    move('reconnecting', { attempt: 0, delayMs: 0, nextRetryAt: at, detail: 'reconnect() was called.' })
  }
  attempt()
}

/** The page came online: a backoff (never the budget's wait) is cut short. */
export function online(): void {
  // Stryker disable next-line ConditionalExpression: the state check's `true` is equivalent: a retry is pending only while `reconnecting` (waitThen moves there and sets it; every other move cancels it or comes after the timer cleared it).
  if (next.status.state === 'reconnecting' && next.retry === 'backoff') {
    cancelRetry()
    attempt()
  }
}

/** The retry timer: the wait is over. */
export function retryTimer(_input: InputOf<'timer'>, connection: Connection | undefined): void {
  // Stryker disable next-line ConditionalExpression: the connection check's `false` is equivalent: no retry is pending beside a connection (the retry timer clears it before attempt() opens one; reconnect() cancels it first).
  if (next.retry === undefined || connection !== undefined) return
  set({ retry: undefined })
  attempt()
}

/** The current socket closed: the close and refusal policies decide what follows. */
export function closed(input: InputOf<'closed'>, current: Connection): void {
  const { code, httpStatus, error, jitter } = input
  // A reason is cut at 123 bytes: it may hold the token's start (redact.ts `redactCut`).
  const close: CloseDetails = { code, reason: redactCut(input.reason, current.token), meaning: closeMeaning(code) }
  const policy = closePolicy(code)
  // A 4012 is a fact about the budget whatever happens next.
  if (policy.action === 'cooldown') set({ budget: afterRatelimited(next.budget, at, budgetConfig()) })
  endConnection(false)
  // A refused upgrade is decided by its HTTP status (the refusal policy), not its close code.
  const refusal = refusalAction(httpStatus)
  set({ refusals: refusal === 'give-up' ? next.refusals + 1 : 0 })
  // What the socket knew of a failure to connect, said after the policy's words.
  let known = httpStatus === undefined ? '' : ` The server answered the upgrade with HTTP ${httpStatus}.`
  if (error !== undefined) known += ` The socket reported: ${redactSecret(error, current.token)}.`
  if (refusal !== undefined) {
    const why = RefusalWhy[refusal] + known
    if (next.refusals >= MaxRefusedUpgrades) {
      fail(`Gave up after ${MaxRefusedUpgrades} refused upgrades in a row: check the url.${known}`, { close })
      return
    }
    if (refusal !== 'slow-retry') retryAfterBackoff(jitter, { close }, why, String(code))
    else {
      emit({ type: 'count', reconnect: String(code) })
      const wait = Math.floor(SlowRetry.minMs * (1 + jitter))
      waitThen(wait, 'backoff', { close, detail: `${why} Connecting again in ${Math.round(wait / 1000)} s.` })
    }
    return
  }
  switch (policy.action) {
    case 'fail':
      fail(current.errorDetail ?? `${close.meaning} ${policy.why}`, { close })
      return
    case 'cooldown': {
      emit({ type: 'count', reconnect: String(code) })
      const wait = identifyWait(next.budget, at, budgetConfig())
      const then = wait.reason ?? policy.why
      waitThen(wait.waitMs, 'budget', {
        close,
        detail: current.errorDetail === undefined ? then : `${current.errorDetail}. Then: ${then}`,
      })
      return
    }
    case 'backoff':
      retryAfterBackoff(jitter, { close }, (current.errorDetail ?? policy.why) + known, String(code))
      return
  }
}
