import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allStrings, writeJson } from '../../test-support/json-escapes.js'
import { harness, token } from '../../test-support/virtual-client.js'

// Issue 11: the token got through in a control payload's other fields, in an event's ctx, and
// in a diagnostic's raw when the server wrote it with \uXXXX escapes. Whatever drives the
// pipeline (today's connect(), or the state machine replacing it), nothing the client passes
// on may hold it: this drives the whole client, frames in, every stream out.
const escaped = (text: string, upper = false) =>
  [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).map((e) => (upper ? e.toUpperCase().replace('\\U', '\\u') : e)).join('')

describe('connect(): the token in nothing passed on', () => {
  it('redacts it from every stream wherever and however the server wrote it', () => {
    const h = harness()
    const frames: string[] = []
    h.client.frame$.subscribe((frame) => frames.push(frame))
    h.last().handshake()
    h.last().frame(`{"code":"invalid_auth","control":true,"reason":"${escaped(token)}","detail":"x"}`)
    h.last().frame(`{"m":{"e":30,"eid":"r1"},"ctx":{"user":"1","review":"my token is ${escaped(token, true)}"}}`)
    h.last().frame(`{"id":"1","token":"${escaped(token)}"`)
    expect(h.controls.at(-1)).toMatchObject({ code: 'invalid_auth', reason: '[redacted]' })
    expect(h.events.at(-1)?.ctx).toEqual({ user: '1', review: 'my token is [redacted]' })
    expect(h.diagnostics.at(-1)).toMatchObject({ kind: 'not-json', raw: '{"id":"1","token":"[redacted]"' })
    const passed = [h.controls, h.events, h.diagnostics, h.statuses, frames]
    for (const s of allStrings(passed)) expect(s).not.toContain(token)
    for (const s of frames) expect(s).not.toMatch(/\\u0074\\u006f\\u006b/i)
  })

  it('for any JSON spelling of it in any string of an event or a control payload (property)', () => {
    const shape = fc.oneof(
      fc.record({ code: fc.string(), control: fc.constant(true), detail: fc.string(), reason: fc.string() }),
      fc.record({ m: fc.record({ e: fc.constantFrom(0, 16, 30, 99), eid: fc.uuid() }), ctx: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()))) }),
    )
    fc.assert(
      fc.property(shape, fc.integer(), (value, seed) => {
        const h = harness()
        h.last().handshake()
        h.last().frame(writeJson(value, seed, { secret: token, chance: 0.5 }).text)
        for (const s of allStrings([h.controls, h.events, h.diagnostics, h.statuses])) expect(s).not.toContain(token)
        h.leave()
      }),
      { numRuns: 300 },
    )
  })
})
