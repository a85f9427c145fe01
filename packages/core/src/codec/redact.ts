/** What replaces a secret in any text the client passes on. */
export const Redacted = '[redacted]'

/**
 * Replaces every occurrence of `secret` in `text` by `[redacted]`, as written and in any
 * spelling a JSON string may give it: each character literal, as a `\uXXXX` escape in either
 * case of hex, or as its short escape (`\"`, `\\`, `\/`, `\n`…). That covers `JSON.stringify`,
 * Go's `encoding/json` (`\u003c` for `<`) and a server that escapes every character. An empty
 * or missing secret leaves the text alone.
 *
 * No replacement hides a secret it spells itself: a secret that is part of `[redacted]` (a
 * single letter, `act`) or that its brackets can complete (`]]` in `]]]`) can still be read in
 * the result. A real token is neither: Fates List's are 132 letters and digits.
 *
 * @example
 * redactSecret('bad token hunter2', 'hunter2') // 'bad token [redacted]'
 * redactSecret('{"t":"hunt\\u0065r2"}', 'hunter2') // '{"t":"[redacted]"}'
 */
export function redactSecret(text: string, secret: string | undefined): string {
  return redactor(secret)(text)
}

/**
 * {@link redactSecret} for a text that may hold the secret cut short: a close reason (at most 123
 * bytes, so a server echoing the identify in it sends only the start of a 132-character token,
 * which no spelling of the whole secret matches). Such a text holding the secret's first 8
 * characters is withheld whole. Not exported from the package.
 * @internal
 */
export function redactCut(text: string, secret: string): string {
  const redacted = redactSecret(text, secret)
  return redacted.includes(secret.slice(0, 8)) ? Redacted : redacted
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

/**
 * A regular expression source matching `secret` in any JSON spelling: per code unit, so that a
 * character beyond the BMP matches as its two escaped surrogates, the way JSON writes it.
 */
function spellingsOf(secret: string): string {
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  return source
}

/** The redactor of no secret: the text as it is. Not exported from the package. */
export const keepText = (text: string): string => text

/**
 * {@link redactSecret} for one secret, its expression built once. For text with no backslash
 * and no form of the secret (nearly every frame) a call is two native scans, one for a
 * backslash and one for a code unit of the secret, and returns the text itself; text holding
 * that unit costs a third scan, for the secret, and text with a backslash the expression.
 *
 * The function it returns remembers which unit of the secret to look for first (the one the
 * last texts lacked): what it returns never depends on that, only how fast.
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
  const every = new RegExp(spellingsOf(secret), 'g')
  // The code unit of the secret the next text is searched for first: 0 <= at < secret.length.
  let at = 0
  return (text) => {
    // Every spelling but the literal one has a backslash in it: in text with none (nearly every
    // frame), the secret can only be as written, so one code unit of it missing from the text
    // rules it out, in a scan as cheap as the backslash's. A property test holds this equal to
    // the expression alone. (Equivalent mutants, left counted: the backslash's check never
    // taken (`false`, `includes('')`, or its block emptied) and the unit's never taken (`false`):
    // the expression or the split then gives the same text.)
    if (!text.includes('\\')) {
      if (!text.includes(secret[at]!)) return text
      // Found: the next text tries the next unit, so the search settles on one frames lack. A
      // Fates List token is 132 random letters and digits: a capital most frames have none of.
      // A token made only of characters every frame holds pays one short extra scan.
      at = (at + 1) % secret.length
      return text.includes(secret) ? text.split(secret).join(Redacted) : text
    }
    // Text the expression does not match comes back as it is.
    return text.replace(every, Redacted)
  }
}

/**
 * The expression alone, without the precheck {@link redactor} makes: the definition the
 * precheck is tested against: the same expression {@link redactor} runs on text with a
 * backslash. Not exported from the package.
 * @internal
 */
export function redactorByExpression(secret: string): (text: string) => string {
  const every = new RegExp(spellingsOf(secret), 'g')
  return (text) => text.replace(every, Redacted)
}
