/** What replaces a secret in any text the client passes on. */
export const Redacted = '[redacted]'

/**
 * Replaces every occurrence of `secret` in `text` by `[redacted]`, as written and in any
 * spelling a JSON string may give it: each character literal, as a `\uXXXX` escape in either
 * case of hex, or as its short escape (`\"`, `\\`, `\/`, `\n`…). That covers `JSON.stringify`,
 * Go's `encoding/json` (`\u003c` for `<`) and a server that escapes every character. An empty
 * or missing secret leaves the text alone.
 *
 * @example
 * redactSecret('bad token hunter2', 'hunter2') // 'bad token [redacted]'
 * redactSecret('{"t":"hunt\\u0065r2"}', 'hunter2') // '{"t":"[redacted]"}'
 */
export function redactSecret(text: string, secret: string | undefined): string {
  return redactor(secret)(text)
}

/**
 * A regular expression source matching one UTF-16 code unit in any JSON spelling: itself,
 * `\uXXXX` (either case of hex) or its short escape (`\"`, `\n`, `\/`…).
 */
function anySpelling(unit: number): string {
  const char = String.fromCharCode(unit)
  const hex = unit.toString(16).padStart(4, '0')
  // Written as \uXXXX in the expression too: no character of the secret is then special in it.
  let source = `\\u${hex}|\\\\u${hex.replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`)}`
  // JSON.stringify writes the short escape when the character has one; / has one it never uses.
  const short = char === '/' ? '\\/' : JSON.stringify(char).slice(1, -1)
  // Its second character is \ only for the backslash, which the expression must escape.
  if (short.length === 2) source += `|\\\\${short[1] === '\\' ? '\\\\' : (short[1] as string)}`
  return `(?:${source})`
}

/** The redactor of no secret: the text as it is. */
export const keepText = (text: string): string => text

/**
 * {@link redactSecret} for one secret, its expression built once. For text with no backslash
 * and no form of the secret (nearly every frame) a call is two native scans, one for a
 * backslash and one for a character of the secret, and returns the text itself.
 *
 * Redacting raw JSON text before `JSON.parse` is enough to keep the secret out of every string
 * and key the parse yields: a parsed string holds the secret only if the text held some
 * spelling of it, and no spelling is left. (`decodePayload` relies on this.)
 *
 * @example
 * const redact = redactor(token)
 * redact(frame)
 */
export function redactor(secret: string | undefined): (text: string) => string {
  if (!secret) return keepText
  // Per code unit, so that a character beyond the BMP matches as its two escaped surrogates,
  // the way JSON writes it.
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  const every = new RegExp(source, 'g')
  // The character of the secret the next frame is searched for first.
  let at = 0
  return (text) => {
    // Every spelling but the literal one has a backslash in it: in text with none (nearly every
    // frame), the secret can only be as written, so one character of it missing from the text
    // rules it out, in a scan as cheap as the backslash's. A property test holds this equal to
    // the expression alone. (Equivalent mutants, left counted: either check never taken
    // (`false`, `includes('')`, or the block emptied); another step to the next character, as
    // any character of the secret serves; the split taken without the secret in the text: the
    // same text either way.)
    if (!text.includes('\\')) {
      if (!text.includes(secret[at]!)) return text
      // Found: the next frame tries the next character, so the search settles on one frames
      // lack. A Fates List token is 132 random letters and digits: a capital most frames have
      // none of. A token made only of characters every frame holds pays one short extra scan.
      at = ++at % secret.length
      return text.includes(secret) ? text.split(secret).join(Redacted) : text
    }
    // Text the expression does not match comes back as it is.
    return text.replace(every, Redacted)
  }
}

/**
 * The expression alone, without the precheck {@link redactor} makes: the definition the
 * precheck is tested against, and what {@link redactor} runs on text with a backslash. Not
 * exported from the package.
 * @internal
 */
export function redactorByExpression(secret: string): (text: string) => string {
  // Per code unit, so that a character beyond the BMP matches as its two escaped surrogates,
  // the way JSON writes it.
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  const every = new RegExp(source, 'g')
  // Text the expression does not match comes back as it is.
  return (text) => text.replace(every, Redacted)
}
