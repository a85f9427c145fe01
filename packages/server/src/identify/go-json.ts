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
  // Go's eof() steps one ' ' through the state it is in: inside a token that is the error.
  const peekInToken = (): number => (i >= end ? 0x20 : (bytes[i] as number))
  const skipSpace = (): void => {
    while (i < end && isSpace(bytes[i] as number)) i++
  }

  const literal = (word: string): void => {
    // The first byte is already known to match.
    i++
    for (let k = 1; k < word.length; k++) {
      const c = peekInToken()
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
        const e = peekInToken()
        i++
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            const h = peekInToken()
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
      const c = peekInToken()
      if (!isDigit(c)) fail(c, 'in numeric literal')
    }
    if (bytes[i] === 0x30) i++
    else digits()
    if (i < end && bytes[i] === 0x2e) {
      i++
      const c = peekInToken()
      if (!isDigit(c)) fail(c, 'after decimal point in numeric literal')
      digits()
    }
    if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
      i++
      let c = peekInToken()
      if (c === 0x2b || c === 0x2d) {
        i++
        c = peekInToken()
      }
      if (!isDigit(c)) fail(c, 'in exponent of numeric literal')
      digits()
    }
  }

  /** Go's scanner's limit (encoding/json maxNestingDepth, since Go 1.15). */
  const maxNestingDepth = 10_000
  // An explicit stack, as Go's scanner keeps: no nesting depth can exhaust the call stack.
  const stack: number[] = []
  const open = (c: number): void => {
    stack.push(c)
    if (stack.length > maxNestingDepth) fail(c, 'exceeded max depth')
    i++
  }
  /** Scans one value; an object or array is opened and left for the loop to continue. */
  const begin = (): boolean => {
    skipSpace()
    const c = peek()
    switch (c) {
      case 0x7b:
        open(c)
        skipSpace()
        if (peek() === 0x7d) {
          i++
          stack.pop()
          return false
        }
        objectKey()
        return true
      case 0x5b:
        open(c)
        skipSpace()
        if (peek() === 0x5d) {
          i++
          stack.pop()
          return false
        }
        return true
      case 0x22:
        string()
        return false
      case 0x74:
        literal('true')
        return false
      case 0x66:
        literal('false')
        return false
      case 0x6e:
        literal('null')
        return false
      default:
        if (c === 0x2d || isDigit(c)) {
          number()
          return false
        }
        return fail(c, 'looking for beginning of value')
    }
  }
  const objectKey = (): void => {
    skipSpace()
    const k = peek()
    if (k !== 0x22) fail(k, 'looking for beginning of object key string')
    string()
    skipSpace()
    const colon = peek()
    if (colon !== 0x3a) fail(colon, 'after object key')
    i++
  }
  const value = (): void => {
    // Each turn scans one value (opening a container, or a scalar) then closes what ends.
    for (;;) {
      if (begin()) continue
      for (;;) {
        if (stack.length === 0) return
        skipSpace()
        const next = peek()
        i++
        const top = stack[stack.length - 1]
        if (top === 0x7b) {
          if (next === 0x7d) {
            stack.pop()
            continue
          }
          if (next !== 0x2c) fail(next, 'after object key:value pair')
          objectKey()
        } else {
          if (next === 0x5d) {
            stack.pop()
            continue
          }
          if (next !== 0x2c) fail(next, 'after array element')
        }
        break
      }
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

/**
 * The members of a JSON object text already known to be valid, in their order and repeats
 * included, each as its key and the text of its value (Go's decoder applies every one in turn;
 * `JSON.parse` keeps only the last of a repeated key). `undefined` when the text is no object.
 */
export function topLevelMembers(text: string): [key: string, value: string][] | undefined {
  let i = 0
  const space = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++
  }
  const skipString = (): void => {
    i++
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    i++
  }
  space()
  if (text[i] !== '{') return undefined
  i++
  const members: [string, string][] = []
  for (;;) {
    space()
    if (text[i] === '}') return members
    const keyStart = i
    skipString()
    const key = JSON.parse(text.slice(keyStart, i)) as string
    space()
    i++ // colon
    space()
    const valueStart = i
    let depth = 0
    for (;;) {
      const c = text[i]
      if (c === '"') skipString()
      else if (c === '{' || c === '[') (depth++, i++)
      else if (c === '}' || c === ']') {
        if (depth === 0) break
        depth--
        i++
      } else if (c === ',' && depth === 0) break
      else i++
    }
    members.push([key, text.slice(valueStart, i).trimEnd()])
    if (text[i] === ',') i++
  }
}

/** The control characters `strconv.Quote` writes by name. */
const NamedEscapes: Readonly<Record<number, string>> = Object.freeze({ 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' })

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0')

/**
 * Go's `strconv.Quote`, as a `NumError` quotes the text it could not parse. What is printable
 * is Node's Unicode, later than Go 1.18's 13.0: a character assigned since is written as it is
 * where Go escaped it (left: Go's own tables would have to be copied).
 */
export function goQuote(text: string): string {
  let out = '"'
  for (const ch of text) {
    // Go's decoder had made a lone surrogate U+FFFD.
    const cp = ch.codePointAt(0) as number
    const rune = cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp
    const c = String.fromCodePoint(rune)
    if (c === '"' || c === '\\') out += `\\${c}`
    else if (rune === 0x20 || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(c)) out += c
    else out += NamedEscapes[rune] ?? (rune < 0x20 || rune === 0x7f ? `\\x${hex(rune, 2)}` : rune < 0x10000 ? `\\u${hex(rune, 4)}` : `\\U${hex(rune, 8)}`)
  }
  return `${out}"`
}
