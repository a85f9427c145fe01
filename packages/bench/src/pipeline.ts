/**
 * Section 1: the client pipeline against the bare loop, in one process, on the same frames,
 * in interleaved rounds.
 *
 * @packageDocumentation
 */
import { ServerPayload } from '@fates-rx/core/protocol'
import { baseline, type BaselineCount } from './baseline.js'
import { buildCorpora, type Corpus, SEPARATOR } from './corpus.js'
import { type Contender, interleave, type Row, toRow } from './harness.js'

/** Options of {@link benchPipeline}. */
export interface PipelineOptions {
  /** Payloads in the corpus. @default 200_000 */
  readonly payloads?: number
  /** Payloads per frame, one corpus each. @default [1, 10, 100] */
  readonly perFrame?: readonly number[]
  /** Measured rounds. @default 7 */
  readonly rounds?: number
  /** Warm-up rounds. @default 2 */
  readonly warmup?: number
}

/** The targets: the share of the baseline the pipeline keeps, by payloads per frame. */
const TARGETS: Readonly<Record<number, number>> = { 1: 0.6, 10: 0.7 }

function baselineContender(corpus: Corpus): Contender {
  return {
    name: `baseline split+parse @${corpus.perFrame}/frame`,
    run() {
      const count: BaselineCount = baseline(corpus.frames)
      if (count.payloads !== corpus.payloads || count.controls !== corpus.controls) throw new Error('baseline miscounted')
      return count.payloads
    },
  }
}

/** Split + parse + the union codec's `is`: what validation alone adds, without RxJS. */
function codecContender(corpus: Corpus): Contender {
  return {
    name: `split+parse+ServerPayload.is @${corpus.perFrame}/frame`,
    run() {
      let valid = 0
      for (const frame of corpus.frames) {
        for (const segment of frame.split(SEPARATOR)) {
          if (segment.length === 0) continue
          if (ServerPayload.is(JSON.parse(segment))) valid++
        }
      }
      if (valid !== corpus.payloads) throw new Error(`codec accepted ${valid} of ${corpus.payloads}`)
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
    const base = baselineContender(corpus)
    const contenders = [codecContender(corpus)]
    const measured = interleave(base, contenders, {
      ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
      ...(options.warmup === undefined ? {} : { warmup: options.warmup }),
    })
    const params = {
      section: 'pipeline',
      perFrame: corpus.perFrame,
      payloads: corpus.payloads,
      controls: corpus.controls,
      repeats: corpus.repeats,
      frames: corpus.frames.length,
      bytes: corpus.bytes,
      rounds: measured[0]?.rates.length ?? 0,
    }
    const threshold = TARGETS[corpus.perFrame]
    measured.forEach((m, i) => {
      const isPipeline = m.name.startsWith('fromFrames ')
      rows.push(
        toRow(m, i === 0 ? undefined : base.name, params, {
          ...(isPipeline && threshold !== undefined
            ? { target: { text: `≥ ${threshold * 100}% of baseline`, threshold } }
            : {}),
        }),
      )
    })
  }
  return rows
}
