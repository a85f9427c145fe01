import { describe, expect, it } from 'vitest'
import { harness } from '../../test-support/virtual-client.js'

// connect() decodes without io-ts (what every app downloads up front carries none): a rejected
// segment is explained in full by the codecs once the checks' chunk has loaded, and by the name
// of the shape it missed until then. This file's module state starts with the chunk not loaded,
// and with checkContexts off nothing loads it before the first rejected segment.
const badMeta = '{"m":{"e":"vote"},"ctx":{}}'
const badControl = '{"control":true,"code":7}'
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('connect(): a rejected segment is explained', () => {
  it('by its shape at once, then by the codecs once their chunk has loaded; never losing the segment', async () => {
    const h = harness({ checkContexts: false })
    h.last().handshake()
    h.last().frame(badMeta)
    expect(h.diagnostics).toEqual([{ kind: 'unknown-shape', message: '(root): expected FatesEvent', raw: badMeta }])
    // The rejected segment started the load.
    // The rejected segment started the load: each one meanwhile is still reported, by its shape.
    for (let i = 0; i < 50 && h.diagnostics.at(-1)?.message.startsWith('(root)') === true; i++) {
      await tick()
      h.last().frame(badControl)
    }
    expect(h.diagnostics.slice(1, -1).every((d) => d.message === '(root): expected ControlPayload')).toBe(true)
    expect(h.diagnostics.at(-1)).toEqual({ kind: 'unknown-shape', message: 'code: expected string', raw: badControl })
    h.last().frame(badMeta)
    expect(h.diagnostics.at(-1)?.message).toBe('m.e: expected Integer')
    h.leave()
  })
})
