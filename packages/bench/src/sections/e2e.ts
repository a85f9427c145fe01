/**
 * Section 2: end to end on loopback. A bare `ws` sender in a child process (the server taken
 * out of the measure) floods the corpus at 10 payloads per frame to (a) a bare `ws` client
 * doing split + parse and (b) `connect()`, in alternating rounds; then paces events at a fixed
 * rate with its send time inside each one, for latency.
 *
 * @packageDocumentation
 */
import { connect } from '@fates-rx/core'
import { Subscription } from 'rxjs'
import WebSocket from 'ws'
import { parseFrame, type BaselineCount } from '../baseline.js'
import { nowMicros, start, stop, within } from '../child.js'
import { ControlCode, Protocol } from '@fates-rx/core/protocol'
import { BenchToken } from '../consumers.js'
import { collect, type Row } from '../harness.js'
import type { SenderHello } from '../ipc.js'
import { median, Samples } from '../stats.js'

/** A receiver under test. */
export interface Receiver {
  readonly name: string
  /**
   * Connects to `url`, completes the handshake, and resolves with the seconds from `ready` to
   * the last of `payloads` payloads (controls included; for a deduplicating receiver, the
   * count it delivers).
   */
  flood(url: string, expected: { payloads: number; events: number }): Promise<number>
  /**
   * Connects and resolves with the latency (µs) of paced events: `events` arrive, the first
   * `skip` of them (the warm-up) are not sampled.
   */
  paced(url: string, events: number, skip: number): Promise<Samples>
}

const IDENTIFY = JSON.stringify({ id: '811073947382579200', token: BenchToken, bot: true })

/** Opens a bare `ws` client, answers `identity`, and hands every frame after `ready` to `onFrame`. */
function bareSession(url: string, onReady: () => void, onFrame: (text: string, socket: WebSocket) => void): void {
  const socket = new WebSocket(url)
  let ready = false
  socket.on('message', (data: Buffer) => {
    const text = data.toString()
    if (!ready) {
      const payload = JSON.parse(text) as { code?: string }
      if (payload.code === ControlCode.Identity) socket.send(IDENTIFY)
      else if (payload.code === ControlCode.Ready) {
        ready = true
        onReady()
      }
      return
    }
    onFrame(text, socket)
  })
}

/** (a): `ws` + split + skip empty + `JSON.parse`, the limit. */
export const bareReceiver: Receiver = {
  name: 'bare ws + split+parse',
  flood(url, expected) {
    return new Promise((resolve) => {
      const count: BaselineCount = { payloads: 0, controls: 0 }
      let t0 = 0n
      bareSession(
        url,
        () => {
          t0 = process.hrtime.bigint()
        },
        (text, socket) => {
          parseFrame(text, count)
          if (count.payloads === expected.events) {
            const seconds = Number(process.hrtime.bigint() - t0) / 1e9
            socket.close()
            resolve(seconds)
          }
        },
      )
    })
  },
  paced(url, events, skip) {
    return new Promise((resolve) => {
      const samples = new Samples(events)
      let seen = 0
      bareSession(
        url,
        () => {},
        (text, socket) => {
          for (const segment of text.split(Protocol.separator)) {
            if (segment === '') continue
            const value = JSON.parse(segment) as { dat: { ctx: { sent: number } } }
            if (seen++ >= skip) samples.add(nowMicros() - value.dat.ctx.sent)
          }
          if (seen >= events) {
            socket.close()
            resolve(samples)
          }
        },
      )
    })
  },
}

/** Opens `connect()` and calls `onEvent` for each event after `ready`; rejects if the connection fails. */
function connectSession(
  url: string,
  onReady: () => void,
  onEvent: (event: { readonly ctx: Record<string, unknown> }, done: () => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = connect({ url, id: '811073947382579200', token: BenchToken })
    const subscriptions = new Subscription()
    const done = (): void => {
      subscriptions.unsubscribe()
      client.close()
      resolve()
    }
    subscriptions.add(
      client.status$.subscribe((status) => {
        if (status.state === 'failed') {
          subscriptions.unsubscribe()
          reject(new Error(`connect() failed: ${status.detail ?? ''}`))
        }
      }),
    )
    subscriptions.add(
      client.control$.subscribe((control) => {
        if (control.code === 'ready') onReady()
      }),
    )
    subscriptions.add(client.event$.subscribe((event) => onEvent(event, done)))
  })
}

/** (b): `connect()`, one subscriber on `event$` (deduplicated, validated). */
export const connectReceiver: Receiver = {
  name: 'connect()',
  async flood(url, expected) {
    let t0 = 0n
    let seconds = 0
    let events = 0
    await connectSession(
      url,
      () => {
        t0 = process.hrtime.bigint()
      },
      (_event, done) => {
        if (++events === expected.events) {
          seconds = Number(process.hrtime.bigint() - t0) / 1e9
          done()
        }
      },
    )
    return seconds
  },
  async paced(url, events, skip) {
    const samples = new Samples(events)
    let seen = 0
    await connectSession(
      url,
      () => {},
      (event, done) => {
        if (seen++ >= skip) samples.add(nowMicros() - (event.ctx['sent'] as number))
        if (seen >= events) done()
      },
    )
    return samples
  },
}

/** Options of {@link benchE2e}. */
export interface E2eOptions {
  /** The receivers; the first is the baseline. */
  readonly receivers: readonly Receiver[]
  /** Payloads in the flood corpus. @default 200_000 */
  readonly payloads?: number
  /** Payloads per frame. @default 10 */
  readonly perFrame?: number
  /** Measured flood rounds per receiver. @default 5 */
  readonly rounds?: number
  /** Paced rate, events per second. @default 50_000 */
  readonly rate?: number
  /** Seconds of paced sending per receiver. @default 3 */
  readonly seconds?: number
}

/** Section 2's rows. */
export async function benchE2e(options: E2eOptions): Promise<Row[]> {
  const perFrame = options.perFrame ?? 10
  const rounds = options.rounds ?? 5
  const rate = options.rate ?? 50_000
  const seconds = options.seconds ?? 3
  const { child, hello } = await start<SenderHello>('./children/e2e-sender.js', [String(perFrame), String(options.payloads ?? 200_000)])
  try {
    const url = (path: string): string => `ws://127.0.0.1:${hello.port}${path}`
    const expected = { payloads: hello.payloads, events: hello.payloads - hello.controls }
    if (hello.controls !== 0 || hello.repeats !== 0) throw new Error('the flood corpus must be events only, each once')
    const receivers = options.receivers
    const rates = receivers.map(() => [] as number[])
    // One unmeasured round to warm both up, then alternate which goes first.
    for (let round = -1; round < rounds; round++) {
      for (let k = 0; k < receivers.length; k++) {
        const i = (k + Math.max(round, 0)) % receivers.length
        const receiver = receivers[i] as Receiver
        // The young generation, as section 1 collects (harness.ts, `InterleaveOptions.collect`):
        // a full collection would also throw away the receivers' optimised code.
        collect('young')
        const s = await within(receiver.flood(url('/flood'), expected), 120_000, `${receiver.name} flood`)
        if (round >= 0) (rates[i] as number[]).push(hello.payloads / s)
      }
    }
    const base = rates[0] as number[]
    const params = { section: 'e2e', perFrame, payloads: hello.payloads, frames: hello.frames, rounds, sender: 'bare ws, child process' }
    const rows: Row[] = receivers.map((receiver, i) => {
      const r = rates[i] as number[]
      const ratio = i === 0 ? null : Math.round(median(r.map((x, j) => x / (base[j] as number))) * 1000) / 1000
      return {
        name: `e2e flood: ${receiver.name}`,
        eventsPerSecond: Math.round(median(r)),
        ratio,
        ...(i === 0 ? {} : { baseline: `e2e flood: ${(receivers[0] as Receiver).name}` }),
        params,
        ...(i === 0 || ratio === null ? {} : { target: { text: '≥ 80% of bare ws', met: ratio >= 0.8 } }),
      }
    })
    // Half a second more than measured: the first half second warms the receiver up.
    const skip = Math.round(rate / 2)
    const events = Math.round(rate * seconds) + skip
    for (const receiver of receivers) {
      collect('young')
      const samples = await within(
        receiver.paced(url(`/paced?rate=${rate}&seconds=${seconds + 0.5}&perFrame=${perFrame}`), events, skip),
        120_000,
        `${receiver.name} paced`,
      )
      const p99 = samples.quantile(0.99) / 1000
      rows.push({
        name: `e2e paced latency: ${receiver.name}`,
        eventsPerSecond: rate,
        ratio: null,
        params: { section: 'e2e', perFrame, rate, seconds, events: events - skip, warmupEvents: skip },
        metrics: {
          p50ms: Math.round(samples.quantile(0.5)) / 1000,
          p90ms: Math.round(samples.quantile(0.9)) / 1000,
          p99ms: Math.round(samples.quantile(0.99)) / 1000,
          maxms: Math.round(samples.quantile(1)) / 1000,
        },
        ...(receiver === receivers[0] ? {} : { target: { text: 'p99 ≤ 1 ms', met: p99 <= 1 } }),
      })
    }
    return rows
  } finally {
    await stop(child)
  }
}
