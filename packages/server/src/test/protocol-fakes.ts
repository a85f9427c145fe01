// Fakes for the protocol logic on its own (no `ws`, no network): a socket that records what the
// server does to it, and a configuration with the original's numbers.
import type { ProtocolConfig } from '../protocol/config.js'
import type { ProtocolSocket } from '../protocol/socket.js'
import { MemoryStore } from '../stores/memory.js'
import { silentLogger } from '../log.js'

/** A socket that records what the server does to it. */
export function fakeSocket() {
  const log: string[] = []
  const socket: ProtocolSocket = {
    send(frame, written) {
      log.push(typeof frame === 'string' ? frame : frame.toString('utf8'))
      queueMicrotask(() => written())
    },
    bufferedAmount: 0,
    close(code, reason) {
      log.push(`close ${code} ${reason}`)
    },
    terminate() {
      log.push('terminate')
    },
    ping() {
      log.push('ping')
    },
  }
  return { socket, log }
}

/** The protocol's configuration with the original's numbers, bot 42 (token `secret`) known, and `overrides`. */
export function protocolConfig(overrides: Partial<ProtocolConfig> = {}): ProtocolConfig {
  return {
    store: new MemoryStore({ bots: [{ id: '42', token: 'secret' }], positions: false }),
    logger: silentLogger,
    rateLimit: 20,
    rateWindowMs: 420_000,
    identifyCost: 2,
    messageCost: 1,
    identifyTimeoutMs: 0,
    pingIntervalMs: 54_000,
    pongTimeoutMs: 60_000,
    donePriorDelayMs: 1_000,
    outbox: { highWaterBytes: 65_536, maxFrameChars: 1_000_000, maxQueuedEvents: 1_000 },
    now: () => 1_700_000_000_500,
    ...overrides,
  }
}
