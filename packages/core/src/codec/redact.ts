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

const keep = (text: string): string => text

/**
 * {@link redactSecret} for one secret, its expression built once: for text holding no form of
 * the secret (nearly all of it) a call is one scan with one regular expression, and returns
 * the text itself.
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
  if (secret === undefined || secret === '') return keep
  // Per code unit, so that a character beyond the BMP matches as its two escaped surrogates,
  // the way JSON writes it.
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  // Two objects, as `test` and `replace` on one global expression would share lastIndex.
  const probe = new RegExp(source)
  const every = new RegExp(source, 'g')
  return (text) => {
    // Every spelling but the literal one has a backslash in it: in text with none (nearly every
    // frame), the secret can only be as written, and two native scans settle it. A property
    // test holds this equal to the expression alone. (Equivalent mutants, left counted: the
    // precheck never taken (`false`, or `indexOf('')`), and the split taken without the secret
    // in the text: the same text either way.)
    if (text.indexOf('\\') === -1) return text.indexOf(secret) === -1 ? text : text.split(secret).join(Redacted)
    return probe.test(text) ? text.replace(every, Redacted) : text
  }
}

/**
 * The expression alone, without the precheck {@link redactor} makes: the definition the
 * precheck is tested against. Not exported from the package.
 * @internal
 */
export function redactorByExpression(secret: string): (text: string) => string {
  let source = ''
  for (let i = 0; i < secret.length; i++) source += anySpelling(secret.charCodeAt(i))
  const every = new RegExp(source, 'g')
  return (text) => text.replace(every, Redacted)
}
