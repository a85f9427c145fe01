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
  /**
   * Payloads per frame of the group measured as the section was before 2026-12-07: a fresh
   * client per part and the whole heap collected before every run, or none for `[]`.
   * @default [10]
   */
  readonly fullCollection?: readonly number[]
}

/**
 * The consumers also measured long-lived (one client per pass over the whole corpus, each part
 * pushing into the client the first part made, as a page keeps one client for its life) and
 * after a full collection (a fresh client per part, the whole heap collected before every run,
 * as the section measured before 2026-12-07). The usual rows make a fresh client per part and
 * collect the young generation before every run. A full collection frees the last run's parsed
 * payloads' hidden classes, and V8 throws away the optimised code that checked them (and any
 * that inlined a freed client's closures): each run then starts partly in the interpreter.
 * The three groups side by side tell the per-payload cost from a client's warm-up and from
 * what a full collection costs the code after it (BENCHMARKS.md, "The collection, not the
 * client").
 */
const Beside: readonly ConsumerName[] = ['baseline', 'fromFramesDedupe', 'connectInProcess']

/** The targets: the share of the baseline `fromFrames` keeps, by payloads per frame. */
const TARGETS: Readonly<Record<number, number>> = { 1: 0.6, 10: 0.7 }

/** Each round runs the corpus in this many parts, every contender back to back on each. */
const PARTS = 4

const ORDER: readonly ConsumerName[] = ['baseline', 'decodeLoop', 'fromFrames', 'fromFramesRedact', 'fromFramesDedupe', 'fromFramesRedactDedupe', 'connectInProcess']

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
      const dedupes = name === 'fromFramesDedupe' || name === 'fromFramesRedactDedupe' || name === 'connectInProcess'
      if (n > payloads || (!dedupes && n !== payloads) || n < payloads - corpus.repeats) {
        throw new Error(`${name} delivered ${n} of ${payloads} payloads`)
      }
      delivered.set(name, (delivered.get(name) ?? 0) + n)
      // Throughput is counted in payloads in, the same for every contender.
      return payloads
    },
  }
}

/** How a group runs its consumers: see {@link Beside}. */
type Regime = 'fresh' | 'long' | 'full'

/** What each group's rows say after the consumer's name (the baseline keeps no state: only its group differs). */
const Suffix: Readonly<Record<Regime, { readonly baseline: string; readonly client: string }>> = {
  fresh: { baseline: '', client: '' },
  long: { baseline: ', beside clients kept per pass', client: ', one client per pass' },
  full: { baseline: ', a full collection before each run', client: ', a full collection before each run' },
}

/**
 * Section 1's rows, one group per batching, then the long-lived group and the group after a
 * full collection per their batching.
 */
export function benchPipeline(options: PipelineOptions = {}): Row[] {
  const perFrame = options.perFrame ?? [1, 10, 100]
  const longLived = options.longLived ?? [10]
  const fullCollection = options.fullCollection ?? [10]
  const corpora = buildCorpora([...new Set([...perFrame, ...longLived, ...fullCollection])], { payloads: options.payloads ?? 200_000 })
  const rounds = options.rounds ?? 3
  const warmup = options.warmup ?? 1
  const rows: Row[] = []
  const group = (corpus: Corpus, order: readonly ConsumerName[], regime: Regime): void => {
    const delivered = new Map<ConsumerName, number>()
    const parts = slices(corpus, PARTS)
    const [base, ...rest] = order.map((name) =>
      contender(name, corpus, parts, delivered, regime === 'long' && name !== 'baseline', name === 'baseline' ? Suffix[regime].baseline : Suffix[regime].client),
    )
    if (base === undefined) throw new Error('no baseline')
    const measured = interleave(base, rest, { rounds, warmup, parts: PARTS, collect: regime === 'full' ? 'full' : 'young' })
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
      collected: regime === 'full' ? 'the whole heap before each run' : 'the young generation before each run',
      ...(regime === 'long' ? { clients: 'one per pass' } : {}),
    }
    const threshold = regime === 'fresh' ? TARGETS[corpus.perFrame] : undefined
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
  for (const corpus of corpora) if (perFrame.includes(corpus.perFrame)) group(corpus, ORDER, 'fresh')
  for (const corpus of corpora) if (longLived.includes(corpus.perFrame)) group(corpus, Beside, 'long')
  for (const corpus of corpora) if (fullCollection.includes(corpus.perFrame)) group(corpus, Beside, 'full')
  return rows
}
