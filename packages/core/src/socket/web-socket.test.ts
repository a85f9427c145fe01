import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { type SocketClose, type SocketFrame, type SocketSignal, type WebSocketConstructor, type WebSocketLike, webSocket$ } from './web-socket.js'

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

describe('webSocket$ in Node: frames as ws receives them', () => {
  it('hands over each frame with its size in UTF-8 bytes, as received, text or binary (decoded as UTF-8, a bad byte as U+FFFD)', async () => {
    const server = createServer()
    const wss = new WebSocketServer({ server })
    const text = 'h\u00e9llo \u{1F600}\u001f{"x":"\u4e2d"}'
    wss.on('connection', (socket) => {
      socket.send(text)
      socket.send(Buffer.from([0x62, 0x69, 0x6e, 0xc3, 0xa9, 0xff]), { binary: true })
      socket.close(1000)
    })
    const port = await listen(server)
    const signals = await closeOf(`ws://127.0.0.1:${port}/ws`)
    expect(signals.filter((s) => s.type === 'frame')).toEqual([
      { type: 'frame', data: text, bytes: Buffer.byteLength(text) },
      { type: 'frame', data: 'bin\u00e9\ufffd', bytes: 6 },
    ])
    // Not the text's length: the count is of bytes.
    expect(Buffer.byteLength(text)).not.toBe(text.length)
    wss.close()
  })
})

describe('webSocket$ in Node: text as ws gives it', () => {
  it('keeps a text frame\'s leading BOM, as ws\'s onmessage does (a TextDecoder would drop it)', async () => {
    const server = createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => {
      socket.send('\ufeffE1')
      socket.close(1000)
    })
    const port = await listen(server)
    const signals = await closeOf(`ws://127.0.0.1:${port}/ws`)
    expect(signals.filter((s) => s.type === 'frame')).toEqual([{ type: 'frame', data: '\ufeffE1', bytes: 5 }])
    wss.close()
  })
})

describe('webSocket$ with a socket that has terminate but no on', () => {
  it('is not taken for ws: its frames come through onmessage', async () => {
    class Terminable implements WebSocketLike {
      onopen: WebSocketLike['onopen'] = null
      onmessage: WebSocketLike['onmessage'] = null
      onclose: WebSocketLike['onclose'] = null
      onerror: WebSocketLike['onerror'] = null
      constructor(_url: string) {
        queueMicrotask(() => {
          this.onopen?.({})
          this.onmessage?.({ data: 'E1' })
          this.onclose?.({ code: 1000, reason: '' })
        })
      }
      send(): void {}
      close(): void {}
      terminate(): void {}
    }
    const signals = await lastValueFrom(webSocket$('ws://127.0.0.1:9/ws', Terminable).pipe(toArray()))
    expect(signals.map((s) => s.type)).toEqual(['open', 'frame', 'close'])
    expect(signals[1]).toEqual({ type: 'frame', data: 'E1' })
  })
})

describe('webSocket$ in Node: a ws whose binaryType is not the default', () => {
  it.each(['arraybuffer', 'fragments'] as const)('decodes a binary frame as text with binaryType %s, as onmessage would have', async (binaryType) => {
    const server = createServer()
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => {
      socket.send('E1')
      socket.send(Buffer.from('bin'), { binary: true })
      socket.close(1000)
    })
    const port = await listen(server)
    class Typed extends WebSocket {
      constructor(url: string) {
        super(url)
        this.binaryType = binaryType
      }
    }
    const signals = await lastValueFrom(webSocket$(`ws://127.0.0.1:${port}/ws`, Typed as unknown as WebSocketConstructor).pipe(toArray()))
    const frames = signals.filter((s) => s.type === 'frame')
    expect(frames[0]).toEqual({ type: 'frame', data: 'E1', bytes: 2 })
    // An ArrayBuffer is decoded and says its size; ws's fragments (an array of Buffers) are
    // joined, as onmessage gave them, and say none (the count falls back to the text).
    expect(frames[1]).toMatchObject({ type: 'frame', data: 'bin' })
    expect((frames[1] as SocketFrame).bytes).toBe(binaryType === 'arraybuffer' ? 3 : undefined)
    wss.close()
  })
})

describe('webSocket$ with a browser-like socket', () => {
  it('says nothing more than the code: a browser\'s error event carries no reason', async () => {
    class BrowserLike implements WebSocketLike {
      onopen: WebSocketLike['onopen'] = null
      onmessage: WebSocketLike['onmessage'] = null
      onclose: WebSocketLike['onclose'] = null
      onerror: WebSocketLike['onerror'] = null
      constructor(_url: string) {
        queueMicrotask(() => {
          this.onerror?.({ type: 'error' })
          this.onclose?.({ code: 1006, reason: '' })
        })
      }
      send(): void {}
      close(): void {}
    }
    const close = (await firstValueFrom(webSocket$('ws://127.0.0.1:9/ws', BrowserLike))) as SocketClose
    // Strict: no `error` or `httpStatus` key at all, not even undefined.
    expect(close).toStrictEqual({ type: 'close', code: 1006, reason: '' })
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

  it('does not close a socket that has closed already when the subscriber leaves', async () => {
    const closes: number[] = []
    class Closing implements WebSocketLike {
      onopen: WebSocketLike['onopen'] = null
      onmessage: WebSocketLike['onmessage'] = null
      onclose: WebSocketLike['onclose'] = null
      onerror: WebSocketLike['onerror'] = null
      constructor(_url: string) {
        queueMicrotask(() => this.onclose?.({ code: 1001, reason: 'going away' }))
      }
      send(): void {}
      close(code?: number): void {
        closes.push(code ?? 0)
      }
    }
    const signals = await lastValueFrom(webSocket$('ws://127.0.0.1:9/ws', Closing).pipe(toArray()))
    expect(signals).toStrictEqual([{ type: 'close', code: 1001, reason: 'going away' }])
    expect(closes).toEqual([])
    // A socket still open when the subscriber leaves (before its close arrives) is closed with 1000.
    webSocket$('ws://127.0.0.1:9/ws', Closing).subscribe().unsubscribe()
    expect(closes).toEqual([1000])
  })
})
