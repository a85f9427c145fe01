import type * as t from 'io-ts'

// A module of its own, apart from report.ts's snowflake checks: those run on every event and
// are downloaded up front, while this runs only where io-ts does (the checks' chunk, the
// codecs' explanations). In one module, esbuild would put both in the chunk they share,
// which every app downloads first.

/**
 * Explains why a value failed a codec, naming paths and expected types only. Values are never
 * echoed: a rejected payload may hold a token or a user's text.
 *
 * @example
 * describeErrors(errors) // 'dat.m.e: expected Integer'
 */
export function describeErrors(errors: t.Errors, limit = 3): string {
  const lines = new Set<string>()
  for (const error of errors) {
    const path = error.context
      .map((entry) => entry.key)
      .filter((key) => key !== '' && !/^\d+$/.test(key))
      .join('.')
    const expected = error.context[error.context.length - 1]?.type.name ?? 'a valid value'
    lines.add(`${path === '' ? '(root)' : path}: expected ${expected}`)
    if (lines.size >= limit) break
  }
  return [...lines].join('; ')
}
