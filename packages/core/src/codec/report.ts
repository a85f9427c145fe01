import type { FatesEvent } from './codecs.js'

/**
 * Fields that carry snowflakes. A snowflake sent as a JSON number larger than
 * `Number.MAX_SAFE_INTEGER` was rounded by `JSON.parse` before anyone could see it.
 */
export const SnowflakeFields = /* @__PURE__ */ Object.freeze([
  ['m', 'id'],
  ['ctx', 'user'],
  ['ctx', 'new_owner'],
] as const)

const none: readonly string[] = Object.freeze([])

/**
 * Paths (`'ctx.user'`) of numeric snowflakes in an event that lost precision in `JSON.parse`.
 * Empty for the usual event, and cheap: a few property reads, no allocation when empty (it runs
 * on every event).
 */
export function unsafeSnowflakePaths(event: FatesEvent): readonly string[] {
  // Named reads first: almost no event has a numeric snowflake, and the table walk's keyed
  // reads are megamorphic. (A test pins SnowflakeFields to exactly these three.) (Equivalent
  // mutants, left counted: this exit never taken, or emptied: the walk below finds nothing.)
  const ctx = event.ctx
  if (typeof event.m.id !== 'number' && typeof ctx['user'] !== 'number' && typeof ctx['new_owner'] !== 'number') {
    return none
  }
  let found: string[] | undefined
  for (let i = 0; i < SnowflakeFields.length; i++) {
    // Indexed reads, not `const [part, key] =`: destructuring runs the iterator protocol.
    const field = SnowflakeFields[i] as (typeof SnowflakeFields)[number]
    const part = field[0]
    const key = field[1]
    const value = (event[part] as Record<string, unknown>)[key]
    if (typeof value === 'number' && !Number.isSafeInteger(value)) (found ??= []).push(`${part}.${key}`)
  }
  return found ?? none
}
