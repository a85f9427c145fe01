import { Protocol } from '../../protocol/limits.js'

/** How the client spends the server's identify ratelimit. */
export interface IdentifyBudgetConfig {
  /** The server's ratelimit window (ms), fixed at the first identify of a window. */
  readonly windowMs: number
  /** The least time between two identifies (ms); 0 for none. */
  readonly minSpacingMs: number
}

/**
 * What the client knows of its ratelimit. Immutable: each function returns a new value, so the
 * rules are testable without a socket or a clock.
 */
export interface IdentifyBudget {
  /** When the client's first identify of the current window was sent (ms). */
  readonly windowStart?: number
  /** Requests left in the window: the server's last report, or the client's estimate since. */
  readonly remaining?: number
  /** When the client last identified (ms). */
  readonly lastIdentifyAt?: number
  /** After a 4012: no connection before this time (ms). */
  readonly cooldownUntil?: number
}

/** How long to wait before identifying, and why (in words for `status$`). */
export interface IdentifyWait {
  /** 0 when the client may identify now. */
  readonly waitMs: number
  /** Why it waits, when it does. */
  readonly reason?: string
}

// Four mutants of this file are equivalent and left counted: each drops an `x !== undefined`
// guard (in windowOpen, and for cooldownUntil, remaining and lastIdentifyAt in identifyWait)
// that the comparison after it repeats, since any comparison with undefined (or NaN) is false.
function windowOpen(budget: IdentifyBudget, now: number, config: IdentifyBudgetConfig): boolean {
  return budget.windowStart !== undefined && now < budget.windowStart + config.windowMs
}

/** How long the client must wait before its next identify. */
export function identifyWait(budget: IdentifyBudget, now: number, config: IdentifyBudgetConfig): IdentifyWait {
  if (budget.cooldownUntil !== undefined && now < budget.cooldownUntil) {
    return {
      waitMs: budget.cooldownUntil - now,
      reason: 'Ratelimited (4012): waiting for the ratelimit window to pass before identifying again.',
    }
  }
  if (
    windowOpen(budget, now, config) &&
    budget.remaining !== undefined &&
    budget.remaining < Protocol.identifyCost
  ) {
    return {
      waitMs: (budget.windowStart ?? now) + config.windowMs - now,
      reason: `${budget.remaining} requests left in the ratelimit window and an identify costs ${Protocol.identifyCost}: waiting for the window to pass.`,
    }
  }
  if (config.minSpacingMs > 0 && budget.lastIdentifyAt !== undefined) {
    const next = budget.lastIdentifyAt + config.minSpacingMs
    if (now < next) {
      return { waitMs: next - now, reason: `Keeping ${config.minSpacingMs} ms between identifies.` }
    }
  }
  return { waitMs: 0 }
}

/** The budget after an identify was sent: a new window starts if none is open; it costs 2. */
export function afterIdentify(budget: IdentifyBudget, now: number, config: IdentifyBudgetConfig): IdentifyBudget {
  const open = windowOpen(budget, now, config)
  const remaining = (open ? (budget.remaining ?? Protocol.rateLimit) : Protocol.rateLimit) - Protocol.identifyCost
  return {
    windowStart: open ? (budget.windowStart ?? now) : now,
    remaining,
    lastIdentifyAt: now,
    ...(budget.cooldownUntil === undefined ? {} : { cooldownUntil: budget.cooldownUntil }),
  }
}

/** The budget after the server reported `requests_remaining` (its word beats the estimate). */
export function afterReport(budget: IdentifyBudget, remaining: number): IdentifyBudget {
  return { ...budget, remaining }
}

/**
 * The budget after a 4012: nothing until the window of the client's first identify has passed,
 * or a whole window from now when the client has not identified in it (another client spent it).
 */
export function afterRatelimited(budget: IdentifyBudget, now: number, config: IdentifyBudgetConfig): IdentifyBudget {
  const until = windowOpen(budget, now, config) ? (budget.windowStart ?? now) + config.windowMs : now + config.windowMs
  return { ...budget, remaining: Math.min(budget.remaining ?? 0, 0), cooldownUntil: until }
}
