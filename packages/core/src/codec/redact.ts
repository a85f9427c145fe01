// Characters JSON.stringify escapes inside a string: quote, backslash, controls, lone surrogates.
const needsEscape = /["\\\u0000-\u001f\ud800-\udfff]/

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
  // Only a secret holding a character JSON escapes can appear in a second form.
  const escaped = needsEscape.test(secret) ? JSON.stringify(secret).slice(1, -1) : undefined
  return (text) => {
    let out = text.includes(secret) ? text.split(secret).join(Redacted) : text
    if (escaped !== undefined && out.includes(escaped)) out = out.split(escaped).join(Redacted)
    return out
  }
}
