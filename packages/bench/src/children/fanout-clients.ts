/**
 * Section 4's client side, in its own process so that the clients do not share the server's
 * event loop: many plain `ws` clients, each its own bot, that identify, then count the events
 * published on `global` and check their order by the `seq` the publisher put in `ctx`.
 *
 * The clients read `seq` with `indexOf` instead of `JSON.parse`: on a 2-core machine the
 * clients' work competes with the server's, and the measure is the server's.
 *
 * IPC in: `{ type: 'connect', url, bots, concurrency }`, `{ type: 'expect', count, timeoutMs }`,
 * `{ type: 'close' }`. IPC out: `{ type: 'connected', … }`, `{ type: 'received', … }`,
 * `{ type: 'closed' }` (typed in ipc.ts).
 *
 * @packageDocumentation
 */
import { ControlCode, Protocol } from '@fates-rx/core/protocol'
import WebSocket from 'ws'
import { nowMicros } from '../child.js'
import type { Bot, FanoutClientsCommand, FanoutClientsReply } from '../ipc.js'

/** One client and what it has seen in the current run. */
interface Client {
  readonly socket: WebSocket
  seen: Uint8Array
  received: number
  duplicates: number
  outOfOrder: number
  lastSeq: number
  lastAt: number
}

const tell = (message: FanoutClientsReply): void => void process.send?.(message)

const clients: Client[] = []
let expected = 0
let complete = 0
let onComplete: (() => void) | undefined

const SEQ = '"seq":'

function onEvent(client: Client, segment: string): void {
  const at = segment.indexOf(SEQ)
  if (at === -1) return
  let seq = 0
  for (let i = at + SEQ.length; i < segment.length; i++) {
    const c = segment.charCodeAt(i) - 48
    if (c < 0 || c > 9) break
    seq = seq * 10 + c
  }
  if (seq >= expected) return
  if (client.seen[seq] === 1) {
    client.duplicates++
    return
  }
  client.seen[seq] = 1
  if (seq < client.lastSeq) client.outOfOrder++
  client.lastSeq = seq
  client.received++
  if (client.received === expected) {
    client.lastAt = nowMicros()
    if (++complete === clients.length) onComplete?.()
  }
}

function open(url: string, bot: Bot): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url)
    const client: Client = { socket, seen: new Uint8Array(0), received: 0, duplicates: 0, outOfOrder: 0, lastSeq: -1, lastAt: 0 }
    let ready = false
    socket.on('message', (data: Buffer) => {
      const text = data.toString()
      if (!ready) {
        const code = (JSON.parse(text) as { code?: string }).code
        if (code === ControlCode.Identity) socket.send(JSON.stringify({ id: bot.id, token: bot.token, bot: true }))
        else if (code === ControlCode.Ready) {
          ready = true
          resolve(client)
        } else reject(new Error(`handshake: ${String(code)}`))
        return
      }
      let start = 0
      while (start < text.length) {
        let end = text.indexOf(Protocol.separator, start)
        if (end === -1) end = text.length
        if (end > start) onEvent(client, text.slice(start, end))
        start = end + 1
      }
    })
    socket.on('error', reject)
    socket.on('close', (code) => {
      if (!ready) reject(new Error(`closed ${code} before ready`))
    })
  })
}

async function connectAll(url: string, bots: readonly Bot[], concurrency: number): Promise<void> {
  const t0 = nowMicros()
  let next = 0
  let failures = 0
  let firstError = ''
  const worker = async (): Promise<void> => {
    while (next < bots.length) {
      const bot = bots[next++] as Bot
      try {
        clients.push(await open(url, bot))
      } catch (error) {
        failures++
        firstError ||= String(error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, bots.length) }, worker))
  const seconds = (nowMicros() - t0) / 1e6
  tell({ type: 'connected', clients: clients.length, failures, firstError, seconds, startAt: t0, endAt: nowMicros() })
}

function expect(count: number, timeoutMs: number): void {
  expected = count
  complete = 0
  for (const c of clients) {
    c.seen = new Uint8Array(count)
    c.received = 0
    c.duplicates = 0
    c.outOfOrder = 0
    c.lastSeq = -1
    c.lastAt = 0
  }
  const report = (timedOut: boolean): void => {
    clearTimeout(timer)
    onComplete = undefined
    let received = 0
    let duplicates = 0
    let outOfOrder = 0
    let clientsOutOfOrder = 0
    let lastAt = 0
    for (const c of clients) {
      received += c.received
      duplicates += c.duplicates
      outOfOrder += c.outOfOrder
      if (c.outOfOrder > 0) clientsOutOfOrder++
      lastAt = Math.max(lastAt, c.lastAt)
    }
    tell({ type: 'received', timedOut, received, duplicates, outOfOrder, clientsOutOfOrder, lastAt: timedOut ? nowMicros() : lastAt })
  }
  const timer = setTimeout(() => report(true), timeoutMs)
  onComplete = () => report(false)
  tell({ type: 'expecting' })
}

process.on('message', (command: FanoutClientsCommand) => {
  switch (command.type) {
    case 'connect':
      void connectAll(command.url, command.bots, command.concurrency)
      break
    case 'expect':
      expect(command.count, command.timeoutMs)
      break
    case 'close':
      for (const c of clients) c.socket.terminate()
      clients.length = 0
      tell({ type: 'closed' })
      break
  }
})
process.on('disconnect', () => process.exit(0))
tell({ type: 'hello' })
