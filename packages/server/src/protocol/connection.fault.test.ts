// The interpreter's last line: an input the pure machine throws on (a bug of its own, such as a
// stack overflow on hostile input) closes that connection with 4500, logged by the exception's
// kind only, and the server serves on. Thrown out of the interpreter, it reached ws's message
// listener and ended the process. The machine's step is made to throw here on purpose.
import { describe, expect, it, vi } from 'vitest'
import { fakeSocket, protocolConfig } from '../test/protocol-fakes.js'
import { makeServer } from './make-server.js'

/** The input types the machine's step throws on while armed. */
const fault = vi.hoisted(() => ({ armed: false, on: ['message'] as string[] }))

vi.mock('./connection-machine.js', async (importOriginal) => {
  const machine = await importOriginal<typeof import('./connection-machine.js')>()
  return {
    ...machine,
    step: (...args: Parameters<typeof machine.step>) => {
      // As V8's JSON.parse does, the message quotes the client's text, token included.
      if (fault.armed && fault.on.includes(args[1].type)) throw new SyntaxError('Unexpected token, "{"token":"secret"}" is not valid JSON')
      return machine.step(...args)
    },
  }
})

describe('a connection whose machine throws', () => {
  it('is closed with 4500, logged without the message, and the next connection is served', async () => {
    const lines: string[] = []
    const server = makeServer(protocolConfig({ logger: { info: (line) => void lines.push(line), error: (line) => void lines.push(line) } }))
    const broken = fakeSocket()
    const handlers = server.opened(broken.socket, { remote: 'test' })
    fault.armed = true
    expect(() => handlers.message('{"id":"42","token":"secret","bot":true}')).not.toThrow()
    fault.armed = false
    await new Promise((resolve) => setImmediate(resolve))
    expect(broken.log.at(-1)).toBe('close 4500 Internal Server Error, try reconnecting?')
    expect(lines.some((line) => line.includes('internal error, the connection is closed: SyntaxError'))).toBe(true)
    expect(lines.join('\n')).not.toContain('secret')

    const next = fakeSocket()
    server.opened(next.socket, { remote: 'test' }).message('{"id":"42","token":"secret","bot":true}')
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    expect(next.log.some((frame) => frame.includes('"code":"ready"'))).toBe(true)
  })

  it('is let go of when the machine throws on its socket\'s close, which the socket reports only once', async () => {
    const server = makeServer(protocolConfig())
    const broken = fakeSocket()
    const handlers = server.opened(broken.socket, { remote: 'test' })
    expect(server.connections).toBe(1)
    Object.assign(fault, { armed: true, on: ['socket-closed'] })
    expect(() => handlers.closed(1006)).not.toThrow()
    Object.assign(fault, { armed: false, on: ['message'] })
    await new Promise((resolve) => setImmediate(resolve))
    expect(server.connections).toBe(0)
  })

  it('is dropped without its machine when the machine throws on the fault too: socket, timers, count', async () => {
    const lines: string[] = []
    const closes: number[] = []
    const server = makeServer(protocolConfig({ logger: { info: (line) => void lines.push(line), error: (line) => void lines.push(line) }, observer: { closed: (code) => void closes.push(code) } }))
    const broken = fakeSocket()
    const handlers = server.opened(broken.socket, { remote: 'test' })
    Object.assign(fault, { armed: true, on: ['message', 'fault'] })
    expect(() => handlers.message('{"id":"42","token":"secret","bot":true}')).not.toThrow()
    Object.assign(fault, { armed: false, on: ['message'] })
    await new Promise((resolve) => setImmediate(resolve))
    expect(broken.log.at(-1)).toBe('terminate')
    expect(server.connections).toBe(0)
    expect(lines.some((line) => line.includes('internal error, the connection is dropped: SyntaxError'))).toBe(true)
    // Counted among the closes once, though its socket's close comes after.
    handlers.closed(1006)
    expect(closes).toEqual([1006])
    expect(lines.join('\n')).not.toContain('secret')
  })

  it('dropped without its machine, is let go of by a relay\'s gate it had joined as a viewer', async () => {
    const calls: string[] = []
    const viewers = {
      admit: () => undefined,
      held: () => void calls.push('held'),
      unheld: () => void calls.push('unheld'),
      joined: () => void calls.push('joined'),
      left: () => void calls.push('left'),
    }
    const server = makeServer(protocolConfig({ viewers }))
    const viewer = fakeSocket()
    const handlers = server.opened(viewer.socket, { remote: 'test' })
    handlers.message('{"id":"42","token":"secret","bot":true}')
    for (let i = 0; i < 5 && !calls.includes('joined'); i++) await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toEqual(['joined'])
    Object.assign(fault, { armed: true, on: ['message', 'fault'] })
    handlers.message('{}')
    Object.assign(fault, { armed: false, on: ['message'] })
    expect(calls).toEqual(['joined', 'left'])
    expect(server.connections).toBe(0)
    // Its socket's close, after, changes nothing more.
    handlers.closed(1006)
    expect(calls).toEqual(['joined', 'left'])

    // One held (its target catching up) is let go of as held.
    calls.length = 0
    const holding = makeServer(protocolConfig({ viewers: { ...viewers, admit: () => ({ holdMs: 5_000, refusal: { code: 'upstream_connecting', detail: 'wait', closeCode: 4000, reason: 'Invalid connection, try again' } }) } }))
    const waiting = holding.opened(fakeSocket().socket, { remote: 'test' })
    waiting.message('{"id":"42","token":"secret","bot":true}')
    for (let i = 0; i < 5 && !calls.includes('held'); i++) await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toEqual(['held'])
    Object.assign(fault, { armed: true, on: ['message', 'fault'] })
    waiting.message('{}')
    Object.assign(fault, { armed: false, on: ['message'] })
    expect(calls).toEqual(['held', 'unheld'])
    expect(holding.connections).toBe(0)
  })
})

describe('a connection whose effect throws (a logger or an observer of the server\'s user)', () => {
  it('is closed with 4500 and logged by the exception\'s kind, and the next connection is served', async () => {
    const lines: string[] = []
    let throwing = true
    const server = makeServer(
      protocolConfig({
        logger: { info: (line) => void lines.push(line), error: (line) => void lines.push(line) },
        observer: {
          identified: () => {
            if (throwing) throw new TypeError('metrics down, token secret')
          },
        },
      }),
    )
    const broken = fakeSocket()
    const handlers = server.opened(broken.socket, { remote: 'test' })
    expect(() => handlers.message('{"id":"42","token":"secret","bot":true}')).not.toThrow()
    await settleEffects()
    expect(broken.log.at(-1)).toBe('close 4500 Internal Server Error, try reconnecting?')
    expect(lines.some((line) => line.includes('internal error, the connection is closed: TypeError'))).toBe(true)
    expect(lines.join('\n')).not.toContain('secret')
    handlers.closed(4500)
    expect(server.connections).toBe(0)

    throwing = false
    const next = fakeSocket()
    server.opened(next.socket, { remote: 'test' }).message('{"id":"42","token":"secret","bot":true}')
    await settleEffects()
    expect(next.log.some((frame) => frame.includes('"code":"ready"'))).toBe(true)
  })

  it.each<[string, () => void]>([
    ['its error line works', () => {}],
    [
      'it throws on every line',
      () => {
        throw new Error('disk full')
      },
    ],
  ])('lets go of the connection at its socket\'s close, counted once, when the close\'s log line throws and %s', async (_how, error) => {
    const closes: number[] = []
    const server = makeServer(
      protocolConfig({
        logger: {
          info: (line) => {
            if (line.endsWith('closed 1000')) throw new Error('disk full')
          },
          error,
        },
        observer: { closed: (code) => void closes.push(code) },
      }),
    )
    const socket = fakeSocket()
    const handlers = server.opened(socket.socket, { remote: 'test' })
    handlers.message('{"id":"42","token":"secret","bot":true}')
    await settleEffects()
    expect(() => handlers.closed(1000)).not.toThrow()
    expect(server.connections).toBe(0)
    // Counted as the 1000 it was, not dropped (and counted) again as a 1006.
    expect(closes).toEqual([1000])
    expect(socket.log).not.toContain('terminate')
  })

  it('is dropped when the logger throws on every line, the fault\'s own included', async () => {
    const server = makeServer(
      protocolConfig({
        logger: {
          info: () => {},
          error: () => {
            throw new Error('disk full')
          },
        },
        observer: {
          identified: () => {
            throw new Error('metrics down')
          },
        },
      }),
    )
    const broken = fakeSocket()
    const handlers = server.opened(broken.socket, { remote: 'test' })
    expect(() => handlers.message('{"id":"42","token":"secret","bot":true}')).not.toThrow()
    await settleEffects()
    expect(broken.log.at(-1)).toBe('terminate')
    expect(server.connections).toBe(0)
  })
})

describe('a logger that throws on the open line (the constructor logs outside the effects)', () => {
  it('costs the connection (4500), not the process: server.opened does not throw', async () => {
    let throwing = true
    const errors: string[] = []
    const server = makeServer(
      protocolConfig({
        logger: {
          info: (line) => {
            if (throwing && line.includes('open from')) throw new Error('disk full')
          },
          error: (line) => void errors.push(line),
        },
      }),
    )
    const broken = fakeSocket()
    expect(() => server.opened(broken.socket, { remote: 'test' })).not.toThrow()
    await settleEffects()
    expect(broken.log.at(-1)).toBe('close 4500 Internal Server Error, try reconnecting?')
    expect(errors.some((line) => line.includes('internal error, the connection is closed: Error'))).toBe(true)

    throwing = false
    const next = fakeSocket()
    server.opened(next.socket, { remote: 'test' }).message('{"id":"42","token":"secret","bot":true}')
    await settleEffects()
    expect(next.log.some((frame) => frame.includes('"code":"ready"'))).toBe(true)
  })
})

describe('a close whose payload the socket throws on', () => {
  it('still closes the socket (the machine sends no second close)', async () => {
    const server = makeServer(protocolConfig())
    const broken = fakeSocket()
    const send = broken.socket.send.bind(broken.socket)
    let throwing = false
    broken.socket.send = (frame, written) => {
      if (throwing) throw new Error('adapter write failed')
      send(frame, written)
    }
    const handlers = server.opened(broken.socket, { remote: 'test' })
    await settleEffects()
    // A bad token: the server answers invalid_auth and closes (4004).
    throwing = true
    expect(() => handlers.message('{"id":"42","token":"wrong","bot":true}')).not.toThrow()
    await settleEffects()
    expect(broken.log.some((line) => line.startsWith('close 4004'))).toBe(true)
  })
})

/** Lets the store's answers and the writes queued meanwhile settle. */
async function settleEffects(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve))
}
