import type { IdentifyPayload } from './codecs.js'

// The wire's rules that need no codec: written without io-ts, so that connect() and what every
// app downloads up front do not carry it (the codecs load with the checks' chunk). codecs.ts
// re-exports them beside the shapes, and its SnowflakeId codec is this file's rule.

/**
 * The largest snowflake an identify may carry: the original server parsed IDs with Go's
 * `strconv.Atoi(id)` (an int64 on a 64-bit server) and rejected anything not above 0, so an ID
 * is a positive int64.
 */
export const MaxSnowflakeId = /* @__PURE__ */ BigInt('9223372036854775807')

/**
 * What a snowflake ID must be, in words: the one text every error about an ID quotes (the
 * client's options, the server's and the relay's options, the codec, the dashboard's form).
 */
export const SnowflakeRule = `a positive 64-bit integer in decimal (at most ${MaxSnowflakeId}), no sign or leading zero, like "811073947382579200"`

// Canonical decimal: no sign, no leading zero, at most 19 digits (int64 has 19).
const snowflakeDigits = /^[1-9][0-9]{0,18}$/

/**
 * True when `id` is a snowflake an identify can carry, written canonically: a positive int64
 * in decimal, no sign and no leading zero (`"811073947382579200"`). The one rule for IDs, used
 * by the client's options, the server's options, identify parsing, `POST /publish`'s channels
 * and the dashboard's form.
 *
 * @example
 * isSnowflakeId('811073947382579200') // true
 * isSnowflakeId('9223372036854775808') // false: beyond int64
 */
// (An equivalent mutant, left counted: `id.length < 19` → `false`: BigInt compares a shorter
// ID the same way; the length test only saves the BigInt.)
export function isSnowflakeId(id: unknown): id is string {
  return typeof id === 'string' && snowflakeDigits.test(id) && (id.length < 19 || BigInt(id) <= MaxSnowflakeId)
}

/**
 * The identify message for a connection, typed by {@link IdentifyPayload}: every key the
 * protocol names, in its order, so that the text is the same whoever builds it; then `after`
 * when given: per channel, the position to resume after (a server that does not stamp
 * positions ignores it, as the original's Go decoder skips unknown keys).
 *
 * @example
 * identifyText({ id: '42', token, bot: true, send_all: false, send_none: false })
 */
export function identifyText(payload: Required<IdentifyPayload>, after?: Readonly<Record<string, string>>): string {
  const { id, token, bot, send_all, send_none } = payload
  // `after` (a resume's positions, see `ResumeCode`) last, and only when given: JSON.stringify
  // leaves out an undefined value, so without it the text is the original's.
  return JSON.stringify({ id, token, bot, send_all, send_none, after })
}
