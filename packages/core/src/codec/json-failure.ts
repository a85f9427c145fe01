// Why a text is not JSON, in words that never quote it: one rule for the client's decoder
// (a frame's segment) and the server's publish endpoint (a request's body).

/**
 * The engine's reason a text is not JSON (`JSON.parse`'s error), unless that reason quotes the
 * text: V8 quotes about ten characters around the bad one (`Unexpected token 'x', "xabcdefghi"...
 * is not valid JSON`), and Safari the bad word, either of which may be a piece of a secret that
 * no redactor can recognise. Then a fixed reason.
 *
 * @example
 * try { JSON.parse('{"token": secret}') } catch (error) { jsonFailure(error) } // 'Not valid JSON (unexpected character)'
 */
export function jsonFailure(error: unknown): string {
  const reason = error instanceof Error ? error.message : ''
  return reason !== '' && !/["'`]/.test(reason) ? reason : 'Not valid JSON (unexpected character)'
}
