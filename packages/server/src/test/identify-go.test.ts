// The identify as the original's decoder (Go 1.18's json.Unmarshal into WebsocketIdentifyPayload)
// read it, at its edges: repeated keys, folded keys, nesting beyond Go's limit, and the texts of
// its errors. (Found by a review: each failed before go-json.ts and parse.ts followed Go here.)
import { either } from 'fp-ts'
import { afterEach, describe, expect, it } from 'vitest'
import { parseIdentify } from '../identify/parse.js'
import type { RunningServer } from '../start.js'
import { normalizeTs, RecordedBot, startTestServer, TestClient } from './harness.js'

let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** Connects (faithful mode), sends `text` as the identify, returns the reply frame and the close. */
async function identifyWith(text: string): Promise<{ reply: string; closed: Promise<{ code: number; reason: string }>; client: TestClient }> {
  server ??= await startTestServer({ positions: false })
  const client = await TestClient.open(server.url)
  await client.next() // identity
  client.send(text)
  return { reply: normalizeTs(await client.next()), closed: client.closed, client }
}

const control = (code: string, detail: string, remaining: number): string =>
  `{"code":"${code}","detail":${JSON.stringify(detail)},"ts":0,"requests_remaining":${remaining},"control":true}`

// Go applies every occurrence of a key in order: a type mismatch is remembered and returned at
// the end even when a later occurrence is well typed, and `null` leaves a set field as it is.
describe('repeated identify keys follow Go’s json.Unmarshal', () => {
  const id = RecordedBot.id
  const token = RecordedBot.token

  it('a numeric id is a type error even when a later "id" is a string (PROTOCOL.md §3.6)', async () => {
    const { reply, closed } = await identifyWith(`{"id":${id},"id":"${id}","token":"${token}","bot":true}`)
    expect(reply).toBe(control('invalid_payload', 'json: cannot unmarshal number into Go struct field WebsocketIdentifyPayload.id of type string', -1))
    expect(await closed).toEqual({ code: 4004, reason: 'Invalid authentication, try again' })
  })

  it('a later null leaves bot=true set (Go ignores null for a bool): ready, not invalid_auth', async () => {
    const { reply, client } = await identifyWith(`{"id":"${id}","token":"${token}","bot":true,"bot":null}`)
    expect(reply).toBe(control('ready', 'Waiting for messages with 2 already made', 18))
    client.ws.terminate()
  })

  it('parseIdentify: the same two cases', () => {
    expect(parseIdentify(`{"id":5,"id":"5","token":"t"}`)).toEqual(
      either.left('json: cannot unmarshal number into Go struct field WebsocketIdentifyPayload.id of type string'),
    )
    expect(parseIdentify(`{"id":"5","token":"t","token":null}`)).toEqual(
      either.right({ kind: 'server', id: '5', token: 't', sendAll: false, sendNone: false }),
    )
  })

  it('Go 1.18 folds keys with its equalFoldRight: "ſend_all" (U+017F long s) is send_all', () => {
    expect(parseIdentify(`{"id":"5","token":"t","ſend_all":true}`)).toEqual(
      either.right({ kind: 'server', id: '5', token: 't', sendAll: true, sendNone: false }),
    )
  })
})

// Go's scanner keeps its own stack and stops at maxNestingDepth (10,000); a recursive one
// overflowed the call stack near 9,000 levels, which threw out of step() and, over a socket,
// out of ws's message listener: one unauthenticated message ended the process.
describe('a deeply nested identify', () => {
  it('10,000 × "[" (Go’s limit, not past it) is "unexpected end of JSON input"', () => {
    expect(parseIdentify('['.repeat(10_000))).toEqual(either.left('unexpected end of JSON input'))
  })
})

// The original wrote "Got ID of " + the ID as sent, and strconv's NumError quotes with
// strconv.Quote (\x00, \x7f, \u00a0), not JSON.stringify.
describe('invalid_payload details as the original wrote them', () => {
  it.each([
    ['{"id":"007","token":""}', 'Invalid ID or token sent. Got ID of 007'],
    ['{"id":"+0","token":"t"}', 'Invalid ID or token sent. Got ID of +0'],
    ['{"id":"-05","token":"t"}', 'Invalid ID or token sent. Got ID of -05'],
    ['{"id":"\\u0000","token":"t"}', 'strconv.Atoi: parsing "\\x00": invalid syntax'],
    ['{"id":"\\u007f","token":"t"}', 'strconv.Atoi: parsing "\\x7f": invalid syntax'],
    ['{"id":"\\u00a0","token":"t"}', 'strconv.Atoi: parsing "\\u00a0": invalid syntax'],
  ])('%s → %j', (text, detail) => {
    expect(parseIdentify(text)).toEqual(either.left(detail))
  })
})

// scanner.go eof(): at the end of the input Go steps one ' ' through the current state
// (`s.step(s, ' ')`) and only says "unexpected end of JSON input" if that did not fail.
describe('input ending inside a token (Go steps a space at EOF)', () => {
  it.each([
    ['-', "invalid character ' ' in numeric literal"],
    ['tru', "invalid character ' ' in literal true (expecting 'e')"],
    ['{"id":-', "invalid character ' ' in numeric literal"],
    ['{"id":1.', "invalid character ' ' after decimal point in numeric literal"],
    ['{"id":1e', "invalid character ' ' in exponent of numeric literal"],
    ['{"id":1e+', "invalid character ' ' in exponent of numeric literal"],
    ['{"id":t', "invalid character ' ' in literal true (expecting 'r')"],
    ['{"id":nul', "invalid character ' ' in literal null (expecting 'l')"],
    ['{"id":"\\', "invalid character ' ' in string escape code"],
    ['{"id":"\\u12', "invalid character ' ' in \\u hexadecimal character escape"],
    // controls: a space is fine in these states, so Go says unexpected end
    ['{"id":"abc', 'unexpected end of JSON input'],
    ['{"id":1', 'unexpected end of JSON input'],
  ])('%s → %s', (text, detail) => {
    expect(parseIdentify(text)).toEqual(either.left(detail))
  })
})

// strconv/atoi.go ParseUint: `if n >= cutoff { return maxVal, rangeError(...) }` is checked
// digit by digit, so an overflow met before the first bad byte is ErrRange; ParseInt keeps
// ErrRange (`err.(*NumError).Err != ErrRange`) and Atoi renames Func to "Atoi".
describe('strconv.Atoi: overflow before an invalid byte is "value out of range"', () => {
  it.each([
    ['99999999999999999999x', 'strconv.Atoi: parsing "99999999999999999999x": value out of range'],
    ['-99999999999999999999x', 'strconv.Atoi: parsing "-99999999999999999999x": value out of range'],
  ])('%s', (id, detail) => {
    expect(parseIdentify(`{"id":"${id}","token":"t"}`)).toEqual(either.left(detail))
  })
})

// decode.go unquoteBytes: "Coerce to well-formed UTF-8 … rr, size := utf8.DecodeRune(s[r:])",
// and DecodeRune returns (RuneError, 1) for every byte of a truncated sequence: E2 82 is two
// U+FFFD in Go, one in Buffer#toString (WHATWG's maximal-subpart rule).
describe('invalid UTF-8 in a binary/unvalidated frame is decoded byte by byte, as Go does', () => {
  it('"\\xE2\\x82" as the id', () => {
    const bytes = Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xe2, 0x82]), Buffer.from('","token":"t"}')])
    expect(parseIdentify(bytes)).toEqual(either.left('strconv.Atoi: parsing "\ufffd\ufffd": invalid syntax'))
  })
})
