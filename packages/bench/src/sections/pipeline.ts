/**
 * Section 1: the client pipeline against the bare loop, in one process, on the same frames,
 * in interleaved rounds.
 *
 * @packageDocumentation
 */
import { ConsumerLabel, type ConsumerName, consumers } from '../consumers.js'
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
}

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

function contender(name: ConsumerName, corpus: Corpus, parts: readonly { frames: readonly string[]; payloads: number }[], delivered: Map<ConsumerName, number>): Contender {
  return {
    name: `${ConsumerLabel[name]} @${corpus.perFrame}/frame`,
    run(part) {
      const { frames, payloads } = parts[part] as { frames: readonly string[]; payloads: number }
      const consumer = consumers[name]()
      for (let i = 0; i < frames.length; i++) consumer.push(frames[i] as string)
      consumer.close()
      const n = consumer.delivered()
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

/** Section 1's rows, one group per batching. */
export function benchPipeline(options: PipelineOptions = {}): Row[] {
  const perFrame = options.perFrame ?? [1, 10, 100]
  const corpora = buildCorpora(perFrame, { payloads: options.payloads ?? 200_000 })
  const rows: Row[] = []
  for (const corpus of corpora) {
    const delivered = new Map<ConsumerName, number>()
    const parts = slices(corpus, PARTS)
    const [base, ...rest] = ORDER.map((name) => contender(name, corpus, parts, delivered))
    if (base === undefined) throw new Error('no baseline')
    const rounds = options.rounds ?? 3
    const warmup = options.warmup ?? 1
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
    }
    const threshold = TARGETS[corpus.perFrame]
    measured.forEach((m, i) => {
      const name = ORDER[i] as ConsumerName
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
  return rows
}
