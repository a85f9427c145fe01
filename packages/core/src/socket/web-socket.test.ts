import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { lastValueFrom, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { FakeWebSocket, fakeWebSockets } from '../testing/fake-web-socket.js'
import { type SocketFrame, type SocketSignal, type WebSocketConstructor, webSocket$ } from './web-socket.js'

// Real sockets on loopback: what a user with a wrong URL meets, and what the close must say.

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

async function listen(server: Server): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

/** A port nothing listens on: bound, then released. */
async function refusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

const closeOf = async (url: string): Promise<SocketSignal[]> => lastValueFrom(webSocket$(url).pipe(toArray()))

describe('webSocket$ in Node: the close says why a connection failed', () => {
  it('carries ws\'s error for a refused connection', async () => {
    const port = await refusedPort()
    const signals = await closeOf(`ws://127.0.0.1:${port}/ws`)
    expect(signals).toEqual([{ type: 'close', code: 1006, reason: '', error: expect.stringMatching(/ECONNREFUSED/) }])
  })

  it.each([404, 403, 500])('carries the HTTP status %i a server answered the upgrade with', async (status) => {
    const port = await listen(createServer((_request, response) => response.writeHead(status).end('not a websocket')))
    const signals = await closeOf(`ws://127.0.0.1:${port}/wrong-path`)
    expect(signals).toEqual([{ type: 'close', code: 1006, reason: '', error: `Unexpected server response: ${status}`, httpStatus: status }])
  })

  it('carries the constructor\'s refusal of a malformed URL', async () => {
    const signals = await closeOf('http//nowhere')
    expect(signals).toEqual([{ type: 'close', code: 1006, reason: '', error: expect.stringMatching(/Invalid URL/) }])
  })

  it('adds nothing to a close that followed a good connection', async () => {
    const server = createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => socket.close(4000, 'Invalid connection, try again'))
    const port = await listen(server)
    const signals = await closeOf(`ws://127.0.0.1:${port}/ws`)
    expect(signals.map((s) => s.type)).toEqual(['open', 'close'])
    expect(signals[1]).toEqual({ type: 'close', code: 4000, reason: 'Invalid connection, try again' })
    wss.close()
  })
})

/**
 * The frames webSocket$ hands over from a real ws server on loopback that runs `serve` on its
 * connection and then closes it, opened with `WebSocket` (ws by default).
 */
async function framesFrom(serve: (socket: WebSocket) => void, Socket?: WebSocketConstructor): Promise<SocketSignal[]> {
  const server = createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket) => {
    serve(socket)
    socket.close(1000)
  })
  const port = await listen(server)
  const signals = await lastValueFrom(webSocket$(`ws://127.0.0.1:${port}/ws`, Socket).pipe(toArray()))
  wss.close()
  return signals.filter((s) => s.type === 'frame')
}

describe('webSocket$ in Node: frames as ws receives them', () => {
  it('hands over each frame with its size in UTF-8 bytes, as received, text or binary (decoded as UTF-8, a bad byte as U+FFFD)', async () => {
    const text = 'h\u00e9llo \u{1F600}\u001f{"x":"\u4e2d"}'
    const frames = await framesFrom((socket) => {
      socket.send(text)
      socket.send(Buffer.from([0x62, 0x69, 0x6e, 0xc3, 0xa9, 0xff]), { binary: true })
    })
    expect(frames).toEqual([
      { type: 'frame', data: text, bytes: Buffer.byteLength(text) },
      { type: 'frame', data: 'bin\u00e9\ufffd', bytes: 6 },
    ])
    // Not the text's length: the count is of bytes.
    expect(Buffer.byteLength(text)).not.toBe(text.length)
  })

  it('keeps a text frame\'s leading BOM, as ws\'s onmessage does (a TextDecoder would drop it)', async () => {
    const frames = await framesFrom((socket) => socket.send('\ufeffE1'))
    expect(frames).toEqual([{ type: 'frame', data: '\ufeffE1', bytes: 5 }])
  })

  it.each(['arraybuffer', 'fragments'] as const)('decodes a binary frame as text with binaryType %s, as onmessage would have', async (binaryType) => {
    class Typed extends WebSocket {
      constructor(url: string) {
        super(url)
        this.binaryType = binaryType
      }
    }
    const frames = await framesFrom((socket) => {
      socket.send('E1')
      socket.send(Buffer.from('bin'), { binary: true })
    }, Typed as unknown as WebSocketConstructor)
    expect(frames[0]).toEqual({ type: 'frame', data: 'E1', bytes: 2 })
    // An ArrayBuffer is decoded and says its size; ws's fragments (an array of Buffers) are
    // joined, as onmessage gave them, and say none (the count falls back to the text).
    expect(frames[1]).toMatchObject({ type: 'frame', data: 'bin' })
    expect((frames[1] as SocketFrame).bytes).toBe(binaryType === 'arraybuffer' ? 3 : undefined)
  })
})

describe('webSocket$ with a browser-like socket (the test kit\'s FakeWebSocket)', () => {
  /** The signals of one webSocket$ over a fake socket, as the test drives it with `play`. */
  const signalsOf = (play: (socket: FakeWebSocket) => void, Socket: typeof FakeWebSocket = FakeWebSocket): SocketSignal[] => {
    let made: FakeWebSocket | undefined
    const Made = class extends Socket {
      constructor(url: string) {
        super(url)
        made = this
      }
    }
    const signals: SocketSignal[] = []
    webSocket$('ws://127.0.0.1:9/ws', Made).subscribe((signal) => signals.push(signal))
    play(made as FakeWebSocket)
    return signals
  }

  it('says nothing more than the code: a browser\'s error event carries no reason', () => {
    const signals = signalsOf((socket) => {
      socket.onerror?.({ type: 'error' })
      socket.closeFromServer(1006)
    })
    // Strict: no `error` or `httpStatus` key at all, not even undefined.
    expect(signals).toStrictEqual([{ type: 'close', code: 1006, reason: '' }])
  })

  it('takes a socket with terminate but no on for a browser\'s: its frames come through onmessage', () => {
    class Terminable extends FakeWebSocket {
      terminate(): void {}
    }
    const signals = signalsOf((socket) => socket.open().frame('E1').closeFromServer(1000), Terminable)
    expect(signals.map((s) => s.type)).toEqual(['open', 'frame', 'close'])
    expect(signals[1]).toEqual({ type: 'frame', data: 'E1' })
  })

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an error without a message', new Error('')],
    ['an object whose message is not text', { message: 42 }],
  ])('reports a constructor that throws %s as a drop with no error text', async (_name, thrown) => {
    const Throwing = function (this: unknown, _url: string) {
      throw thrown
    } as unknown as WebSocketConstructor
    const signals = await lastValueFrom(webSocket$('ws://127.0.0.1:9/ws', Throwing).pipe(toArray()))
    expect(signals).toStrictEqual([{ type: 'close', code: 1006, reason: '' }])
  })

  it('does not close a socket that has closed already when the subscriber leaves', () => {
    const fakes = fakeWebSockets()
    const closed = webSocket$('ws://127.0.0.1:9/ws', fakes.WebSocket).subscribe()
    fakes.last().closeFromServer(1001, 'going away')
    closed.unsubscribe()
    expect(fakes.last().closedByClient).toBeUndefined()
    // A socket still open when the subscriber leaves is closed with 1000.
    webSocket$('ws://127.0.0.1:9/ws', fakes.WebSocket).subscribe().unsubscribe()
    expect(fakes.last().closedByClient).toEqual({ code: 1000, reason: undefined })
  })
})
