import { describe, expect, it } from 'vitest'
import { harness } from '../../test-support/virtual-client.js'

// A close reason is at most 123 bytes: a server that echoes the identify in it sends a token
// cut short, which redacting the whole token never matches.
const longToken = Array.from({ length: 132 }, (_, i) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(i * 7) % 62]).join('')

describe('connect(): a close reason holding the identify cut at 123 bytes', () => {
  it('passes on no part of the token', () => {
    const h = harness({ token: longToken })
    h.last().handshake()
    const identify = h.last().sent.at(-1) as string
    expect(identify).toContain(longToken)
    h.last().closeFromServer(4004, Buffer.from(identify).subarray(0, 123).toString())
    const status = h.status()
    expect(status.close?.code).toBe(4004)
    expect(JSON.stringify(h.statuses)).not.toContain(longToken.slice(0, 16))
    expect(status.close?.reason).toBe("[redacted]")
  })
})
