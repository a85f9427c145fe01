// A writer that gives up on a peer (its queue over the byte or event limit) lets go of the
// queued events, not of the control payloads queued with them: an identify that was counted
// and answered `ready` must be told so before the close.
import { describe, expect, it } from 'vitest'
import { fakeSocket, protocolConfig } from '../test/protocol-fakes.js'
import { MemoryStore } from '../stores/memory.js'
import { makeServer } from './make-server.js'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('a send_all replay over the byte limit', () => {
  it('still sends ready (the identify was counted) before the 1008 close', async () => {
    const store = new MemoryStore({ bots: [{ id: '42', token: 'secret' }], positions: false })
    for (let i = 0; i < 10; i++) await store.publish('bot-42', `e${i}`, { m: { e: 0, eid: `e${i}`, ts: i }, ctx: { pad: 'x'.repeat(300) } })
    const outbox = { highWaterBytes: 65_536, maxFrameChars: 1_000_000, maxQueuedEvents: 1_000, maxQueuedBytes: 2_000 }
    const server = makeServer(protocolConfig({ store, outbox }))
    const { socket, log } = fakeSocket()
    const handlers = server.opened(socket, { remote: 'test' })
    await turn() // identity is written, as before any real client's identify
    handlers.message('{"id":"42","token":"secret","bot":true,"send_all":true}')
    for (let i = 0; i < 5; i++) await turn()
    expect(log.map((frame) => (frame.startsWith('{') ? (JSON.parse(frame) as { code: string }).code : frame))).toEqual([
      'identity',
      'ready',
      'close 1008 Send queue over 2000 bytes: reading too slowly',
    ])
    expect(await store.countRequest('wsrl-42-bot', 0, 420_000)).toBe(2)
  })
})
