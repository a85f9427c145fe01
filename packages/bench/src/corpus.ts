/**
 * The fixed corpus: realistic server payloads, generated from a seed so that every run (and
 * every machine) measures exactly the same bytes.
 *
 * Shapes follow the recorded sessions in packages/core/fixtures/original: wrapped events with
 * the original's sorted keys, control payloads alone in their own frame, and events batched the
 * way the original writer did (`E1\x1f` then `\x1fE2\x1f` …), which gives the doubled and
 * trailing separators a client must skip.
 *
 * @packageDocumentation
 */
import type { EventMeta } from '@fates-rx/core'
import { Protocol } from '@fates-rx/core/protocol'
import { controlPayload, donePriorPayload, joinFrames, readyPayload, wrapEvent } from '@fates-rx/core/testing'

/** A seeded pseudo-random source: a 32-bit xorshift, small and identical on every engine. */
export class Random {
  private state: number

  /** @param seed - any 32-bit integer but 0. */
  constructor(seed: number) {
    this.state = seed | 0 || 0x9e3779b9
  }

  /** A float in [0, 1). */
  next(): number {
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x
    return (x >>> 0) / 0x1_0000_0000
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  /** A decimal snowflake (18–19 digits) as a string, as the wire carries it. */
  snowflake(): string {
    return `${1 + this.int(9)}${String(this.int(1e9)).padStart(9, '0')}${String(this.int(1e9)).padStart(9, '0')}`
  }

  /** A version-4 UUID, the form of the original's event IDs. */
  uuid(): string {
    const hex = (n: number): string => {
      let s = ''
      for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)]
      return s
    }
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[this.int(4)]}${hex(3)}-${hex(12)}`
  }
}

const WORDS = [
  'great', 'bot', 'works', 'fast', 'music', 'moderation', 'love', 'it', 'the', 'commands', 'are',
  'easy', 'to', 'use', 'sometimes', 'offline', 'but', 'support', 'helped', 'me', 'five', 'stars',
  'would', 'recommend', 'server', 'très', 'bien', 'gut', '最高', '👍', 'lag', 'dashboard', 'premium',
] as const

/** A weighted table of event kinds, roughly the mix a busy bot list saw (votes and views dominate). */
const KINDS = [
  { weight: 38, e: 0, ctx: 'vote' },
  { weight: 22, e: 16, ctx: 'view' },
  { weight: 9, e: 17, ctx: 'invite' },
  { weight: 6, e: 71, ctx: 'vote' },
  { weight: 5, e: 70, ctx: 'view' },
  { weight: 2, e: 72, ctx: 'invite' },
  { weight: 5, e: 30, ctx: 'reviewVote' },
  { weight: 3, e: 31, ctx: 'review' },
  { weight: 1, e: 32, ctx: 'review' },
  { weight: 2, e: 50, ctx: 'items' },
  { weight: 1, e: 51, ctx: 'items' },
  { weight: 1, e: 40, ctx: 'items' },
  { weight: 2, e: 2, ctx: 'user' },
  { weight: 1, e: 12, ctx: 'transfer' },
  { weight: 1, e: 5, ctx: 'user' },
  { weight: 1, e: 99, ctx: 'user' },
] as const

const TOTAL_WEIGHT = KINDS.reduce((sum, kind) => sum + kind.weight, 0)

/** Options of {@link generatePayloads}. */
export interface CorpusOptions {
  /** How many payloads. @default 200_000 */
  readonly payloads?: number
  /** Share of control payloads. @default 0.05 */
  readonly controlShare?: number
  /** Share of events that repeat an earlier event verbatim (a replay), for dedupe. @default 0.01 */
  readonly repeatShare?: number
  /** The seed. @default 20260127 */
  readonly seed?: number
  /** Where event IDs start counting, so that several corpora never share one. @default 0 */
  readonly eidOffset?: number
}

/** One generated payload: its JSON text and whether it is a control payload. */
export interface Payload {
  readonly json: string
  readonly control: boolean
}

function text(random: Random, words: number): string {
  const out: string[] = []
  for (let i = 0; i < words; i++) out.push(random.pick(WORDS))
  return out.join(' ')
}

function context(random: Random, kind: (typeof KINDS)[number]['ctx'], user: string): Record<string, unknown> {
  switch (kind) {
    case 'vote':
      return { test: random.next() < 0.02, user, votes: 1 + random.int(50_000) }
    case 'view':
      return { user, widget: random.next() < 0.3 }
    case 'invite':
      return { api: random.next() < 0.1, user }
    case 'reviewVote':
      return {
        downvotes: random.int(20),
        id: random.uuid(),
        reply: false,
        review: text(random, 4 + random.int(20)),
        star_rating: 1 + random.int(10) / 2,
        upvote: random.next() < 0.8,
        upvotes: random.int(200),
        user,
      }
    case 'review':
      return {
        id: random.uuid(),
        reply: random.next() < 0.1,
        review: text(random, 8 + random.int(40)),
        star_rating: 1 + random.int(10) / 2,
        user,
      }
    case 'items': {
      const n = 1 + random.int(4)
      return {
        ids: Array.from({ length: n }, () => random.uuid()),
        names: Array.from({ length: n }, () => `/${random.pick(WORDS)}`),
        nuke: false,
        user: null,
      }
    }
    case 'transfer':
      return { new_owner: random.snowflake(), user }
    case 'user':
      return { user }
  }
}

/** A wrapped event with the original's sorted keys, and a sequence-free body. */
function eventJson(random: Random, eid: string, ts: number, bots: readonly string[]): string {
  let roll = random.int(TOTAL_WEIGHT)
  let kind: (typeof KINDS)[number] = KINDS[0]
  for (const k of KINDS) {
    if (roll < k.weight) {
      kind = k
      break
    }
    roll -= k.weight
  }
  const target = random.pick(bots)
  const chan = kind.e >= 70 && kind.e < 80 ? `server-${target}` : random.next() < 0.03 ? 'global' : `bot-${target}`
  const m: EventMeta = { e: kind.e, eid, t: kind.e === 30 ? [1, 0] : -1, ts }
  if (random.next() < 0.2) m.id = target
  // `ctx` before `m`: the original's sorted keys, which wrapEvent keeps as given.
  return JSON.stringify(wrapEvent({ ctx: context(random, kind.ctx, random.snowflake()), m }, chan))
}

function controlJson(random: Random, ts: number): string {
  const roll = random.next()
  const remaining = 18 - 2 * random.int(5)
  // `made` is what the ratelimit counter must be for `remaining` requests to be left.
  const made = Protocol.rateLimit - remaining
  if (roll < 0.45) return JSON.stringify(readyPayload(made, { ts: Math.floor(ts) }))
  if (roll < 0.9) return JSON.stringify(donePriorPayload(made, { ts: Math.floor(ts) }))
  // A code no table knows yet, with the later server's `chan`: it must pass through.
  return JSON.stringify(controlPayload('maintenance', { detail: 'Restarting soon', ts: Math.floor(ts), requestsRemaining: remaining, chan: 'global' }))
}

/**
 * Generates the payloads of the corpus, deterministically from the seed.
 *
 * @returns the payloads in arrival order.
 */
export function generatePayloads(options: CorpusOptions = {}): Payload[] {
  const count = options.payloads ?? 200_000
  const controlShare = options.controlShare ?? 0.05
  const repeatShare = options.repeatShare ?? 0.01
  const random = new Random(options.seed ?? 20260127)
  const bots = Array.from({ length: 50 }, () => random.snowflake())
  const out: Payload[] = []
  const events: string[] = []
  let ts = 1_700_000_000
  let eid = options.eidOffset ?? 0
  for (let i = 0; i < count; i++) {
    ts += random.int(2000) / 1e6
    if (random.next() < controlShare) {
      out.push({ json: controlJson(random, ts), control: true })
      continue
    }
    if (events.length > 0 && random.next() < repeatShare) {
      out.push({ json: random.pick(events), control: false })
      continue
    }
    // Unique IDs that still look like the original's: the counter lives in the last group.
    const id = `${random.uuid().slice(0, 24)}${(eid++).toString(16).padStart(12, '0')}`
    const json = eventJson(random, id, Math.round(ts * 1e6) / 1e6, bots)
    out.push({ json, control: false })
    // Keep a bounded window of recent events to replay from, as `send_all` overlaps recent ones.
    if (events.length < 1000) events.push(json)
    else events[random.int(1000)] = json
  }
  return out
}

/**
 * Groups payloads into frames the way the original server wrote them: a control payload alone
 * with no separator; up to `perFrame` consecutive events as `E1\x1f\x1fE2\x1f…\x1fEn\x1f`.
 */
export function toFrames(payloads: readonly Payload[], perFrame: number): string[] {
  if (!Number.isInteger(perFrame) || perFrame < 1) throw new RangeError(`perFrame must be a positive integer, got ${perFrame}`)
  const frames: string[] = []
  let batch: string[] = []
  const flush = (): void => {
    if (batch.length === 0) return
    frames.push(joinFrames(...batch))
    batch = []
  }
  for (const payload of payloads) {
    if (payload.control) {
      flush()
      frames.push(payload.json)
      continue
    }
    batch.push(payload.json)
    if (batch.length === perFrame) flush()
  }
  flush()
  return frames
}

/** The corpus at one batching: its frames and what they hold. */
export interface Corpus {
  readonly perFrame: number
  readonly frames: readonly string[]
  readonly payloads: number
  readonly controls: number
  readonly events: number
  /** Events whose `eid` was seen before in this corpus. */
  readonly repeats: number
  readonly bytes: number
}

/** Builds the corpus at each batching from one set of payloads. */
export function buildCorpora(perFrame: readonly number[], options: CorpusOptions = {}): Corpus[] {
  const payloads = generatePayloads(options)
  const controls = payloads.filter((p) => p.control).length
  const seen = new Set<string>()
  let repeats = 0
  for (const p of payloads) {
    if (p.control) continue
    if (seen.has(p.json)) repeats++
    else seen.add(p.json)
  }
  return perFrame.map((n) => {
    const frames = toFrames(payloads, n)
    return {
      perFrame: n,
      frames,
      payloads: payloads.length,
      controls,
      events: payloads.length - controls,
      repeats,
      bytes: frames.reduce((sum, f) => sum + f.length, 0),
    }
  })
}
