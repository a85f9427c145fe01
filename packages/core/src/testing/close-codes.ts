/**
 * As the WHATWG WebSocket does: a client may close only with 1000 or 3000–4999 (or no code);
 * any other code throws `InvalidAccessError`. One rule for both fakes, so that a close a
 * browser refuses fails in a test too. Not exported from the package.
 */
export function assertClientCloseCode(code: number | undefined): void {
  if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new Error(`InvalidAccessError: close() with code ${code}: only 1000 or 3000-4999`)
  }
}
