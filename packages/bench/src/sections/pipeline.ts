/**
 * Section 1: the client pipeline against the bare loop, in one process, on the same frames,
 * in interleaved rounds.
 *
 * @packageDocumentation
 */
import { ConsumerLabel, type ConsumerName, consumers, type FrameConsumer } from '../consumers.js'
import { baseline } from '../baseline.js'
import { buildCorpora, type Corpus } from '../corpus.js'
import { type Contender, interleave, type Row, toRow } from '../harness.js'

/** Options of {@link benchPipeline}. */
export interface PipelineOptions {
  /** Payloads in the corpus. @default 200_000 */
  readonly payloads?: number
  /** Payloads per frame, one corpus each. @default [1, 10, 100] */
  readonly perFrame?: readonly number[]
  /** Measured rounds. @default 3 */
  readonly rounds?: number
  /** Warm-up rounds. @default 1 */
  readonly warmup?: number
  /**
   * Payloads per frame of the long-lived group (one client per pass over the corpus, for the
   * consumers that keep state), or none for `[]`.
   * @default [10]
   */
  readonly longLived?: readonly number[]
}

/**
 * The consumers also measured long-lived: one client per pass over the whole corpus (each
 * part pushes into the client the first part made), as a page keeps one client for its life.
 * The usual rows make a fresh client per part, so each part also pays its warm-up: V8
 * re-optimises the hot functions after the collection between runs has freed the last client
 * (`--trace-deopt` names it: "weak objects"), and a client that lives for 50,000 payloads
 * spends a visible share of them on that. The two groups side by side tell the warm-up from the
 * per-payload cost.
 */
const LongLived: readonly ConsumerName[] = ['baseline', 'fromFramesDedupe', 'connectInProcess']

/** The targets: the share of the baseline `fromFrames` keeps, by payloads per frame. */
const TARGETS: Readonly<Record<number, number>> = { 1: 0.6, 10: 0.7 }

/** Each round runs the corpus in this many parts, every contender back to back on each. */
const PARTS = 4

const ORDER: readonly ConsumerName[] = ['baseline', 'decodeLoop', 'fromFrames', 'fromFramesRedact', 'fromFramesDedupe', 'connectInProcess']

/** The corpus's frames cut into `parts` runs of whole frames, and the payloads in each. */
function slices(corpus: Corpus, parts: number): { frames: readonly string[]; payloads: number }[] {
  const size = Math.ceil(corpus.frames.length / parts)
  return Array.from({ length: parts }, (_, i) => {
    const frames = corpus.frames.slice(i * size, (i + 1) * size)
    return { frames, payloads: baseline(frames).payloads }
  })
}

function contender(
  name: ConsumerName,
  corpus: Corpus,
  parts: readonly { frames: readonly string[]; payloads: number }[],
  delivered: Map<ConsumerName, number>,
  longLived = false,
  suffix = '',
): Contender {
  // The long-lived client, from the first part of a pass to its last.
  let kept: FrameConsumer | undefined
  return {
    name: `${ConsumerLabel[name]}${suffix} @${corpus.perFrame}/frame`,
    run(part) {
      const { frames, payloads } = parts[part] as { frames: readonly string[]; payloads: number }
      const consumer = longLived ? (kept ??= consumers[name]()) : consumers[name]()
      const before = consumer.delivered()
      for (let i = 0; i < frames.length; i++) consumer.push(frames[i] as string)
      if (!longLived || part === parts.length - 1) {
        consumer.close()
        kept = undefined
      }
      const n = consumer.delivered() - before
      // Everything arrives, except replayed events where the consumer deduplicates.
      const dedupes = name === 'fromFramesDedupe' || name === 'connectInProcess'
      if (n > payloads || (!dedupes && n !== payloads) || n < payloads - corpus.repeats) {
        throw new Error(`${name} delivered ${n} of ${payloads} payloads`)
      }
      delivered.set(name, (delivered.get(name) ?? 0) + n)
      // Throughput is counted in payloads in, the same for every contender.
      return payloads
    },
  }
}

/** Section 1's rows, one group per batching, then the long-lived group per its batching. */
export function benchPipeline(options: PipelineOptions = {}): Row[] {
  const perFrame = options.perFrame ?? [1, 10, 100]
  const longLived = options.longLived ?? [10]
  const corpora = buildCorpora([...new Set([...perFrame, ...longLived])], { payloads: options.payloads ?? 200_000 })
  const rounds = options.rounds ?? 3
  const warmup = options.warmup ?? 1
  const rows: Row[] = []
  const group = (corpus: Corpus, order: readonly ConsumerName[], long: boolean): void => {
    const delivered = new Map<ConsumerName, number>()
    const parts = slices(corpus, PARTS)
    const [base, ...rest] = order.map((name) =>
      // The baseline keeps no state: it is the same either way, named for its group.
      long ? contender(name, corpus, parts, delivered, name !== 'baseline', name === 'baseline' ? ', beside clients kept per pass' : ', one client per pass') : contender(name, corpus, parts, delivered),
    )
    if (base === undefined) throw new Error('no baseline')
    const measured = interleave(base, rest, { rounds, warmup, parts: PARTS })
    const params = {
      section: 'pipeline',
      perFrame: corpus.perFrame,
      payloads: corpus.payloads,
      controls: corpus.controls,
      repeats: corpus.repeats,
      frames: corpus.frames.length,
      megabytes: Math.round(corpus.bytes / 1e4) / 100,
      rounds,
      partsPerRound: PARTS,
      ...(long ? { clients: 'one per pass' } : {}),
    }
    const threshold = long ? undefined : TARGETS[corpus.perFrame]
    measured.forEach((m, i) => {
      const name = order[i] as ConsumerName
      rows.push(
        toRow(m, i === 0 ? undefined : base.name, params, {
          // Per full pass over the corpus (the warm-up round included in the sum, so divide).
          metrics: { deliveredPerPass: Math.round((delivered.get(name) ?? 0) / (rounds + warmup)) },
          ...(name === 'fromFrames' && threshold !== undefined
            ? { target: { text: `≥ ${threshold * 100}% of baseline`, threshold } }
            : {}),
        }),
      )
    })
  }
  for (const corpus of corpora) if (perFrame.includes(corpus.perFrame)) group(corpus, ORDER, false)
  for (const corpus of corpora) if (longLived.includes(corpus.perFrame)) group(corpus, LongLived, true)
  return rows
}
