/** How the client waits between attempts. */
export interface BackoffConfig {
  /**
   * The cap of the first delay (ms); each delay is drawn uniformly from [0, cap] ("full jitter").
   * @default 500
   */
  readonly initialDelayMs?: number
  /**
   * How much the cap grows per attempt.
   * @default 2
   */
  readonly factor?: number
  /**
   * The largest cap (ms).
   * @default 30000
   */
  readonly maxDelayMs?: number
  /**
   * Attempts after a drop before the client gives up (`failed`); `Infinity` never gives up.
   * @default Infinity
   */
  readonly maxAttempts?: number
  /**
   * A connection live this long (ms) resets the attempt count.
   * @default 10000
   */
  readonly resetAfterMs?: number
}

/** The defaults of {@link BackoffConfig}. */
export const BackoffDefaults = Object.freeze({
  initialDelayMs: 500,
  factor: 2,
  maxDelayMs: 30_000,
  maxAttempts: Infinity,
  resetAfterMs: 10_000,
} as const satisfies Required<BackoffConfig>)

/**
 * The delay before attempt `attempt` (1-based): uniform in [0, min(max, initial·factor^(attempt−1))].
 * Full jitter spreads a crowd of clients dropped together, so they do not return in a storm.
 *
 * @param random a number in [0, 1), `Math.random` by default
 */
export function backoffDelay(
  attempt: number,
  config: Required<BackoffConfig> = BackoffDefaults,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1)
  // factor ** exponent overflows to Infinity after enough attempts; 0 × Infinity would be NaN.
  const grown = config.initialDelayMs === 0 ? 0 : config.initialDelayMs * config.factor ** exponent
  return Math.floor(random() * Math.min(config.maxDelayMs, grown))
}
