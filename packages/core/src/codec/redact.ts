/** What replaces a secret in any text the client passes on. */
export const Redacted = '[redacted]'

/**
 * A redact function that knows its secret. Called on text, it replaces every form the secret
 * can take there: as written, and as any JSON string may spell it (each character literal or
 * as a `\uXXXX` escape in either case of hex, or a short escape such as `\"`), which covers
 * `JSON.stringify` and Go's `encoding/json` (`\u003c` for `<`). Its two other members let a
 * decoder redact parsed values without walking every payload: {@link Redactor.mayHold} is one
 * scan of raw text, and {@link Redactor.value} is needed only when it says yes.
 */
export interface Redactor {
  /** `text` with every form of the secret replaced by `[redacted]`. */
  (text: string): string
  /**
   * True when raw `text` may hold the secret in any form, written or JSON-escaped: one scan.
   * When it is false, no string that `JSON.parse(text)` yields (keys included) holds the secret.
   */
  readonly mayHold: (text: string) => boolean
  /**
   * A parsed JSON value with the secret replaced in every string and key, however deep;
   * the value itself (not a copy) when nothing held it.
   */
  readonly value: <T>(value: T) => T
}

/**
 * Replaces every occurrence of `secret` in `text` by `[redacted]`, both as written and as it
 * appears inside a JSON string, in any escaping (see {@link Redactor}). An empty or missing
 * secret leaves the text alone.
 *
 * @example
 * redactSecret('bad token hunter2', 'hunter2') // 'bad token [redacted]'
 * redactSecret('{"t":"hunt\\u0065r2"}', 'hunter2') // '{"t":"[redacted]"}'
 */
export function redactSecret(text: string, secret: string | undefined): string {
  return redactor(secret)(text)
}

// JSON's short escapes (RFC 8259 section 7), by the character they stand for.
const shortEscapes: Readonly<Record<string, string>> = {
  '"': '\\\\"',
  '\\': '\\\\\\\\',
  '/': '\\\\/',
  '\b': '\\\\b',
  '\f': '\\\\f',
  '\n': '\\\\n',
  '\r': '\\\\r',
  '\t': '\\\\t',
}

// A hex digit in either case: JSON allows both, Go writes lower case, others upper.
const hexDigit = (digit: string): string => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)

/**
 * A regular expression source matching one UTF-16 code unit in any JSON spelling: itself,
 * `\uXXXX` (any case of hex) or its short escape.
 */
function anySpelling(unit: number): string {
  const char = String.fromCharCode(unit)
  const hex = unit.toString(16).padStart(4, '0')
  const escaped = `\\\\u${[...hex].map(hexDigit).join('')}`
  const literal = `\\u${hex}`
  const short = shortEscapes[char]
  return short === undefined ? `(?:${literal}|${escaped})` : `(?:${literal}|${escaped}|${short})`
}

const identity = <T>(value: T): T => value

const noSecret: Redactor = Object.assign((text: string) => text, {
  mayHold: () => false,
  value: identity,
})

/**
 * A {@link Redactor} for one secret, built once: for text holding no form of the secret
 * (nearly all of it) a call costs one scan with one regular expression.
 *
 * @example
 * const redact = redactor(token)
 * redact(frame)
 * if (redact.mayHold(segment)) payload = redact.value(payload)
 */
export function redactor(secret: string | undefined): Redactor {
  if (secret === undefined || secret === '') return noSecret
  // Per code unit, so that a character beyond the BMP matches as its two escaped surrogates,
  // the way JSON writes it.
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  // Two objects, as `test` and `replace` on one global expression would share lastIndex.
  const probe = new RegExp(source)
  const every = new RegExp(source, 'g')
  const text = (raw: string): string => (probe.test(raw) ? raw.replace(every, Redacted) : raw)
  // Parsed strings hold the secret as written only: a plain search finds it.
  const inString = (s: string): string => (s.includes(secret) ? s.split(secret).join(Redacted) : s)
  const value = <T>(v: T): T => deepRedact(v, inString) as T
  return Object.assign(text, { mayHold: (raw: string) => probe.test(raw), value })
}

/** `value` with `inString` applied to every string and key; the same object when none changed. */
function deepRedact(value: unknown, inString: (s: string) => string): unknown {
  if (typeof value === 'string') return inString(value)
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let out: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const clean = deepRedact(item, inString)
      if (clean !== item) (out ??= value.slice())[i] = clean
    }
    return out ?? value
  }
  let changed = false
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    const cleanKey = inString(key)
    const clean = deepRedact(item, inString)
    if (cleanKey !== key || clean !== item) changed = true
    // Defined, not assigned: JSON.parse makes "__proto__" an own key, and assigning it would
    // set the copy's prototype instead.
    Object.defineProperty(out, cleanKey, { value: clean, enumerable: true, writable: true, configurable: true })
  }
  return changed ? out : value
}

const wrapped = new WeakMap<(text: string) => string, Redactor>()

/**
 * `redact` as a {@link Redactor}: itself when it is one (as {@link redactor} builds), else a
 * wrapper that, knowing nothing of the secret, may find it anywhere and so applies `redact` to
 * every string of a parsed value.
 *
 * @example
 * toRedactor((text) => text.replaceAll(secret, '***')).value({ reason: secret }) // { reason: '***' }
 */
export function toRedactor(redact: (text: string) => string): Redactor {
  if (typeof (redact as Partial<Redactor>).mayHold === 'function' && typeof (redact as Partial<Redactor>).value === 'function') {
    return redact as Redactor
  }
  let r = wrapped.get(redact)
  if (r === undefined) {
    r = Object.assign((text: string) => redact(text), {
      mayHold: () => true,
      value: <T>(v: T): T => deepRedact(v, redact) as T,
    })
    wrapped.set(redact, r)
  }
  return r
}
