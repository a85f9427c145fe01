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
  if (secret === undefined || secret === '') return text
  let out = text.includes(secret) ? text.split(secret).join(Redacted) : text
  // Only a token holding a character JSON escapes can appear in a second form.
  if (needsEscape.test(secret)) {
    const escaped = JSON.stringify(secret).slice(1, -1)
    if (out.includes(escaped)) out = out.split(escaped).join(Redacted)
  }
  return out
}
