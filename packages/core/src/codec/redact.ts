// Characters JSON.stringify escapes inside a string: quote, backslash, controls, lone surrogates.
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/
// Characters Go's encoding/json escapes beyond those (HTML-safe output, on by default).
const goEscapes = /[<>&\u2028\u2029]/
const goEscapesAll = /[<>&\u2028\u2029]/g

/** What replaces a secret in any text the client passes on. */
export const Redacted = '[redacted]'

/**
 * Replaces every occurrence of `secret` in `text` by `[redacted]`, both as written and as it
 * appears inside a JSON string (a token holding `"` or `\` is escaped on the wire, and a raw
 * segment is JSON). An empty or missing secret leaves the text alone.
 *
 * @example
 * redactSecret('bad token hunter2', 'hunter2') // 'bad token [redacted]'
 */
export function redactSecret(text: string, secret: string | undefined): string {
  return redactor(secret)(text)
}

/**
 * {@link redactSecret} for one secret, with its JSON-escaped form worked out once: for text
 * without the secret (nearly all of it) a call costs one `includes` per form.
 *
 * @example
 * const redact = redactor(token)
 * redact(frame)
 */
export function redactor(secret: string | undefined): (text: string) => string {
  if (secret === undefined || secret === '') return (text) => text
  // The forms a secret takes in raw JSON text: as JSON.stringify writes it, and as Go's
  // encoding/json (the original server's) writes it, which also escapes <, > and & (and U+2028,
  // U+2029) as \u003c and so on. Only a secret holding such a character has a second form.
  const forms = new Set([secret])
  if (needsEscape.test(secret) || goEscapes.test(secret)) {
    const escaped = JSON.stringify(secret).slice(1, -1)
    forms.add(escaped)
    forms.add(escaped.replace(goEscapesAll, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))
  }
  const all = [...forms]
  return (text) => {
    let out = text
    for (const form of all) if (out.includes(form)) out = out.split(form).join(Redacted)
    return out
  }
}
