// The JSON writer of the original's Go server, shared by the server's frames and the test
// kit's builders (`joinFrames`), so that both write an event's bytes by one definition.

/** A scalar as Go wrote it; `undefined` for arrays and objects. */
function goScalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'string':
      return goString(value)
    case 'number':
      // Go's strconv writes negative zero with its sign; JSON.stringify drops it.
      return Number.isFinite(value) ? (Object.is(value, -0) ? '-0' : JSON.stringify(value)) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      return undefined
    default:
      return 'null'
  }
}

const surrogate = /[\ud800-\udfff]/

/** A key's code point at `i` as Go's string held it (a lone surrogate was U+FFFD), and its width. */
function goCodePoint(key: string, i: number): number {
  const c = key.codePointAt(i) as number
  return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c
}

/** Orders two keys by code point: the order of their UTF-8 bytes, which Go's sort compared. */
function byCodePoint(a: string, b: string): number {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const x = goCodePoint(a, i)
    const y = goCodePoint(b, j)
    if (x !== y) return x - y
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return (a.length - i) - (b.length - j)
}

/**
 * An object's keys in the order Go's `json.Marshal` wrote a map's: by UTF-8 bytes. The default
 * sort (UTF-16 code units) agrees unless a key holds a surrogate (a character past U+FFFF).
 */
function goKeyOrder(keys: string[]): string[] {
  keys.sort()
  return keys.some((key) => surrogate.test(key)) ? keys.sort(byCodePoint) : keys
}

/** An array or object being written: its remaining entries and whether one was written. */
interface Open {
  readonly close: string
  /** Array items, or the sorted keys of an object. */
  readonly entries: readonly unknown[]
  readonly record: Record<string, unknown> | undefined
  next: number
  wrote: boolean
}

/**
 * How deep {@link goJson} recurses before it hands the rest to its own stack: far deeper than
 * any event (publish refuses more than 32 levels), far shallower than the call stack.
 */
const RecursionLimit = 64

/**
 * Writes a JSON value as Go's `json.Marshal` wrote the original's events: object keys sorted,
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX` / `\u20XX`. Clients must not depend on
 * either, but byte-for-byte frames make transcript tests against the recordings possible.
 *
 * It recurses, which V8 runs several times faster than a walk with its own stack (the encoder
 * was an eighth of the server's time in batch publishing), but only `RecursionLimit` (64)
 * levels deep: events also arrive from Redis, written by producers this server never
 * validated, so anything deeper is written by {@link goJsonWalk}, and no depth may exhaust the
 * call stack.
 */
export function goJson(value: unknown): string {
  return goValue(value, RecursionLimit)
}

function goValue(value: unknown, depth: number): string {
  if (typeof value !== 'object' || value === null) return goScalar(value) as string
  if (depth === 0) return goJsonWalk(value)
  if (Array.isArray(value)) {
    let out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + goValue(value[i], depth - 1)
    return `${out}]`
  }
  const record = value as Record<string, unknown>
  const keys = goKeyOrder(Object.keys(record))
  let out = '{'
  let wrote = false
  for (const key of keys) {
    const item = record[key]
    if (item === undefined || typeof item === 'function') continue
    out += `${wrote ? ',' : ''}${goString(key)}:${goValue(item, depth - 1)}`
    wrote = true
  }
  return `${out}}`
}

/** {@link goJson} with a stack of its own instead of recursion, for values of any depth. */
export function goJsonWalk(value: unknown): string {
  let out = ''
  const open: Open[] = []
  let current: unknown = value
  for (;;) {
    const scalar = goScalar(current)
    if (scalar !== undefined) {
      out += scalar
    } else if (Array.isArray(current)) {
      out += '['
      open.push({ close: ']', entries: current, record: undefined, next: 0, wrote: false })
    } else {
      const record = current as Record<string, unknown>
      out += '{'
      open.push({ close: '}', entries: goKeyOrder(Object.keys(record)), record, next: 0, wrote: false })
    }
    // Find the next value to write, closing every array and object that has none left.
    let found = false
    while (open.length > 0 && !found) {
      const top = open[open.length - 1]!
      while (top.next < top.entries.length) {
        const entry = top.entries[top.next++]
        if (top.record === undefined) {
          current = entry
        } else {
          const item = top.record[entry as string]
          if (item === undefined || typeof item === 'function') continue
          current = item
        }
        if (top.wrote) out += ','
        top.wrote = true
        if (top.record !== undefined) out += `${goString(entry as string)}:`
        found = true
        break
      }
      if (!found) {
        out += top.close
        open.pop()
      }
    }
    if (!found) return out
  }
}

const htmlUnsafe = /[<>&\u2028\u2029]/
const htmlUnsafeAll = /[<>&\u2028\u2029]/g

// Characters a string literal cannot hold as they are: quote, backslash, controls, what Go
// escapes for HTML, and surrogates (a lone one is escaped by JSON.stringify).
const needsEscape = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/

/** A lone surrogate: what Go's decoder (the original's) had made U+FFFD before it wrote a string. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * A JSON string literal as the original's Go (1.18) wrote it: HTML-safe escapes, `\u0008` and
 * `\u000c` where JSON.stringify writes `\b` and `\f` (Go has written those only since 1.22),
 * and U+FFFD for a lone surrogate (Go's strings hold none: its decoder replaced them).
 */
export function goString(text: string): string {
  // Most strings (keys, ids, UUIDs, plain words) need no escape: quoting them is enough.
  if (!needsEscape.test(text)) return `"${text}"`
  let json = JSON.stringify(text.replace(loneSurrogate, '\ufffd'))
  // Escapes are read in pairs from the left, so the `b` of an escaped backslash's `\\b` stays.
  if (json.includes('\\b') || json.includes('\\f')) json = json.replace(/\\(.)/g, (escape, c: string) => (c === 'b' ? '\\u0008' : c === 'f' ? '\\u000c' : escape))
  return htmlUnsafe.test(json)
    ? json.replace(htmlUnsafeAll, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json
}
