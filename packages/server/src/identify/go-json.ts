/**
 * The error texts of Go's `encoding/json`, which the original server put verbatim in the
 * `invalid_payload` detail. `JSON.parse` words its errors differently, so this module walks the
 * input the way Go's scanner does (byte by byte, same states) to name the same character and
 * the same expectation. Only syntax is checked here; values come from `JSON.parse` afterwards.
 */

/** Quotes one byte the way Go's `quoteChar` does (`'\''`, `'"'`, else `strconv.Quote`). */
export function goQuoteByte(byte: number): string {
  if (byte === 0x27) return "'\\''"
  if (byte === 0x22) return `'"'`
  const named: Readonly<Record<number, string>> = {
    7: '\\a',
    8: '\\b',
    9: '\\t',
    10: '\\n',
    11: '\\v',
    12: '\\f',
    13: '\\r',
    0x5c: '\\\\',
  }
  const special = named[byte]
  if (special !== undefined) return `'${special}'`
  if (byte < 0x20 || byte === 0x7f) return `'\\x${byte.toString(16).padStart(2, '0')}'`
  // Go converts the byte to the rune of the same number; 0x80-0xa0 and the soft hyphen are
  // not printable there, so strconv.Quote writes them as \u00XX.
  if ((byte >= 0x80 && byte <= 0xa0) || byte === 0xad) {
    return `'\\u00${byte.toString(16).padStart(2, '0')}'`
  }
  return `'${String.fromCharCode(byte)}'`
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean =>
  isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)

/** Thrown inside the scanner only; never escapes {@link goSyntaxError}. */
class ScanError {
  constructor(readonly message: string) {}
}

const fail = (byte: number, context: string): never => {
  throw new ScanError(`invalid character ${goQuoteByte(byte)} ${context}`)
}

/**
 * Go's syntax error for `input` (text, or the message's bytes as received), or `undefined`
 * when it is one valid JSON value.
 *
 * @example
 * goSyntaxError('{not json') // "invalid character 'n' looking for beginning of object key string"
 */
export function goSyntaxError(input: string | Uint8Array): string | undefined {
  // Go scans bytes: an invalid UTF-8 byte is named as itself, not as U+FFFD.
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input
  let i = 0
  const end = bytes.length
  const peek = (): number => {
    if (i >= end) throw new ScanError('unexpected end of JSON input')
    return bytes[i] as number
  }
  const skipSpace = (): void => {
    while (i < end && isSpace(bytes[i] as number)) i++
  }

  const literal = (word: string): void => {
    // The first byte is already known to match.
    i++
    for (let k = 1; k < word.length; k++) {
      const c = peek()
      const want = word.charCodeAt(k)
      if (c !== want) fail(c, `in literal ${word} (expecting '${word[k]}')`)
      i++
    }
  }

  const string = (): void => {
    i++ // opening quote
    for (;;) {
      const c = peek()
      i++
      if (c === 0x22) return
      if (c === 0x5c) {
        const e = peek()
        i++
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            const h = peek()
            if (!isHex(h)) fail(h, 'in \\u hexadecimal character escape')
            i++
          }
        } else if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) {
          fail(e, 'in string escape code')
        }
      } else if (c < 0x20) {
        fail(c, 'in string literal')
      }
    }
  }

  const digits = (): void => {
    while (i < end && isDigit(bytes[i] as number)) i++
  }

  const number = (): void => {
    if (bytes[i] === 0x2d) {
      i++
      const c = peek()
      if (!isDigit(c)) fail(c, 'in numeric literal')
    }
    if (bytes[i] === 0x30) i++
    else digits()
    if (i < end && bytes[i] === 0x2e) {
      i++
      const c = peek()
      if (!isDigit(c)) fail(c, 'after decimal point in numeric literal')
      digits()
    }
    if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
      i++
      let c = peek()
      if (c === 0x2b || c === 0x2d) {
        i++
        c = peek()
      }
      if (!isDigit(c)) fail(c, 'in exponent of numeric literal')
      digits()
    }
  }

  const value = (): void => {
    skipSpace()
    const c = peek()
    switch (c) {
      case 0x7b:
        return object()
      case 0x5b:
        return array()
      case 0x22:
        return string()
      case 0x74:
        return literal('true')
      case 0x66:
        return literal('false')
      case 0x6e:
        return literal('null')
      default:
        if (c === 0x2d || isDigit(c)) return number()
        return fail(c, 'looking for beginning of value')
    }
  }

  const object = (): void => {
    i++
    skipSpace()
    if (peek() === 0x7d) {
      i++
      return
    }
    for (;;) {
      skipSpace()
      const k = peek()
      if (k !== 0x22) fail(k, 'looking for beginning of object key string')
      string()
      skipSpace()
      const colon = peek()
      if (colon !== 0x3a) fail(colon, 'after object key')
      i++
      value()
      skipSpace()
      const next = peek()
      i++
      if (next === 0x7d) return
      if (next !== 0x2c) fail(next, 'after object key:value pair')
    }
  }

  const array = (): void => {
    i++
    skipSpace()
    if (peek() === 0x5d) {
      i++
      return
    }
    for (;;) {
      value()
      skipSpace()
      const next = peek()
      i++
      if (next === 0x5d) return
      if (next !== 0x2c) fail(next, 'after array element')
    }
  }

  try {
    value()
    skipSpace()
    if (i < end) fail(bytes[i] as number, 'after top-level value')
    return undefined
  } catch (error) {
    if (error instanceof ScanError) return error.message
    throw error
  }
}
