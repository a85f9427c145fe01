/**
 * Section 1: the client pipeline against the bare loop, in one process, on the same frames,
 * in interleaved rounds.
 *
 * @packageDocumentation
 */
import { ConsumerLabel, type ConsumerName, consumers } from './consumers.js'
import { buildCorpora, type Corpus } from './corpus.js'
import { type Contender, interleave, type Row, toRow } from './harness.js'

/** Options of {@link benchPipeline}. */
export interface PipelineOptions {
  /** Payloads in the corpus. @default 200_000 */
  readonly payloads?: number
  /** Payloads per frame, one corpus each. @default [1, 10, 100] */
  readonly perFrame?: readonly number[]
  /** Measured rounds. @default 5 */
  readonly rounds?: number
  /** Warm-up rounds. @default 1 */
  readonly warmup?: number
}

/** The targets: the share of the baseline `fromFrames` keeps, by payloads per frame. */
const TARGETS: Readonly<Record<number, number>> = { 1: 0.6, 10: 0.7 }

const ORDER: readonly ConsumerName[] = ['baseline', 'decodeLoop', 'fromFrames', 'fromFramesDedupe', 'connectInProcess']

function contender(name: ConsumerName, corpus: Corpus, delivered: Map<ConsumerName, number>): Contender {
  return {
    name: `${ConsumerLabel[name]} @${corpus.perFrame}/frame`,
    run() {
      const consumer = consumers[name]()
      const frames = corpus.frames
      for (let i = 0; i < frames.length; i++) consumer.push(frames[i] as string)
      consumer.close()
      const n = consumer.delivered()
      // Everything arrives, except replayed events where the consumer deduplicates.
      const low = name === 'fromFramesDedupe' || name === 'connectInProcess' ? corpus.payloads - corpus.repeats : corpus.payloads
      if (n < low || n > corpus.payloads) throw new Error(`${name} delivered ${n} of ${corpus.payloads} payloads`)
      delivered.set(name, n)
      // Throughput is counted in payloads in, the same for every contender.
      return corpus.payloads
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
    const [base, ...rest] = ORDER.map((name) => contender(name, corpus, delivered))
    if (base === undefined) throw new Error('no baseline')
    const measured = interleave(base, rest, { rounds: options.rounds ?? 5, warmup: options.warmup ?? 1 })
    const params = {
      section: 'pipeline',
      perFrame: corpus.perFrame,
      payloads: corpus.payloads,
      controls: corpus.controls,
      repeats: corpus.repeats,
      frames: corpus.frames.length,
      megabytes: Math.round(corpus.bytes / 1e4) / 100,
      rounds: measured[0]?.rates.length ?? 0,
    }
    const threshold = TARGETS[corpus.perFrame]
    measured.forEach((m, i) => {
      const name = ORDER[i] as ConsumerName
      rows.push(
        toRow(m, i === 0 ? undefined : base.name, params, {
          metrics: { delivered: delivered.get(name) ?? 0 },
          ...(name === 'fromFrames' && threshold !== undefined
            ? { target: { text: `≥ ${threshold * 100}% of baseline`, threshold } }
            : {}),
        }),
      )
    })
  }
  return rows
}
