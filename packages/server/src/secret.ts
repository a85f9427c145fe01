import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/**
 * True when `given` equals the secret `expected`, compared in constant time: hashing first
 * makes the lengths equal, so neither the content nor the length leaks through timing. The
 * one comparison of secrets in the server (API tokens at identify, the admin Bearer token).
 * An `expected` of `undefined` (no such identity) never matches, after the same work.
 */
export function sameSecret(expected: string | undefined, given: string): boolean {
  const equal = timingSafeEqual(digest(expected ?? '\0no secret'), digest(given))
  return equal && expected !== undefined
}

/**
 * {@link sameSecret} against one fixed secret, hashed once: the admin token is compared on
 * every `POST /publish`, and hashing it again each time was work for nothing. The same
 * constant-time comparison of digests.
 */
export function secretMatcher(expected: string): (given: string) => boolean {
  const wanted = digest(expected)
  return (given) => timingSafeEqual(wanted, digest(given))
}
