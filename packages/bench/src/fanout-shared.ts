/**
 * What both fan-out servers share: the event published, the publishing pace, peak RSS.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs'
import type { FatesEvent } from '@fates-rx/core'

/** Events published per macrotask; publishing yields between chunks so that writers run. */
export const PUBLISH_CHUNK = 100

/** The bots of a fan-out run: one per client, so that no identity hits the ratelimit. */
export function benchBots(count: number): { id: string; token: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: String(811073947382579200n + BigInt(i)), token: `bench-token-${i}` }))
}

/** The viewer token of the relay section's relay (it relays the first of {@link benchBots}). */
export const RelayViewerToken = 'bench-relay-viewer-token'

/** The `seq`-th event: a vote, with its sequence number in `ctx` for the clients' order check. */
export function benchEvent(seq: number): FatesEvent {
  return {
    m: { e: 0, eid: `00000000-0000-4000-8000-${seq.toString(16).padStart(12, '0')}`, t: -1, ts: 1_700_000_000 + seq / 1000 },
    ctx: { seq, test: false, user: '563808552288780322', votes: seq },
  }
}

/** The process's peak resident set in bytes: the kernel's high-water mark (VmHWM). */
export function peakRss(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (kb !== undefined) return Number(kb) * 1024
  } catch {
    // Not Linux: fall through to the current RSS, the best available.
  }
  return process.memoryUsage().rss
}

/** What a server process reports about its memory: now, and the peak so far. */
export interface MemoryStats {
  readonly rss: number
  readonly peakRss: number
  readonly heapUsed: number
  readonly external: number
}

/** The process's memory now and its peak RSS. */
export function memoryStats(): MemoryStats {
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, peakRss: peakRss(), heapUsed, external }
}
