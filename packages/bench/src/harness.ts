/**
 * The measuring harness: contenders run in interleaved rounds against a baseline measured in
 * the same run, so that a busy, shared machine slows both alike and the ratio stays meaningful.
 * A lone time is never reported.
 *
 * @packageDocumentation
 */
import { median } from './stats.js'

/** One row of the results table and of results.json. */
export interface Row {
  /** What was measured. */
  readonly name: string
  /** Payloads (or events delivered) per second: the median over the rounds. */
  readonly eventsPerSecond: number
  /**
   * The contender's speed relative to its baseline: the median over rounds of the paired
   * ratio (contender ÷ baseline in the same round). `null` where a row has no baseline.
   */
  readonly ratio: number | null
  /** The row this one is measured against, when there is one. */
  readonly baseline?: string
  /** Inputs: corpus, batching, rounds, client counts … */
  readonly params: Readonly<Record<string, unknown>>
  /** Other measurements of the row (latency percentiles, heap growth, RSS …). */
  readonly metrics?: Readonly<Record<string, unknown>>
  /** A target from the issue, and whether this run met it. */
  readonly target?: { readonly text: string; readonly met: boolean }
}

/** One contender: a synchronous pass over one part of a fixed input. */
export interface Contender {
  readonly name: string
  /** Runs over part `part` (of `parts`); returns the number of items handled. */
  run(part: number, parts: number): number
}

/** Options of {@link interleave}. */
export interface InterleaveOptions {
  /** Measured rounds; each round runs every contender over every part. @default 5 */
  readonly rounds?: number
  /** Unmeasured rounds first, so that every contender is optimised before it is timed. @default 1 */
  readonly warmup?: number
  /**
   * The input is run in this many parts, each part by every contender back to back: a pair
   * of measurements then lies within a fraction of a second, so the load of a shared machine
   * changes less between the two than over a whole pass. @default 4
   */
  readonly parts?: number
  /**
   * What is collected before every run (with `--expose-gc`): `'young'`, the young generation,
   * where nearly all of a run's garbage is; or `'full'`, the whole heap. A full collection
   * also frees the hidden classes (maps) of objects no longer alive, here every parsed payload
   * of the last run, and with them V8 throws away the optimised code that checked those maps
   * ("weak objects" in `--trace-deopt`): each run then starts half in the interpreter, which no
   * page that keeps receiving pays every 50,000 payloads (BENCHMARKS.md, "The collection, not
   * the client"). @default 'young'
   */
  readonly collect?: 'young' | 'full'
}

/** What {@link interleave} measured for one contender. */
export interface Measured {
  readonly name: string
  /** Items per second, one per measured (round, part). */
  readonly rates: readonly number[]
  /** Contender ÷ baseline per measured (round, part); 1 for the baseline itself. */
  readonly ratios: readonly number[]
}

/** `--expose-gc`'s collector: with no options a full collection, with `{ type: 'minor' }` the young generation. */
type Collector = (options?: { readonly type: 'minor' }) => void

/** Collects as {@link InterleaveOptions.collect} says, if `--expose-gc` gave a collector (read per call). */
export function collect(what: 'young' | 'full'): void {
  const gc = (globalThis as { gc?: Collector }).gc
  if (typeof gc !== 'function') return
  if (what === 'young') gc({ type: 'minor' })
  else gc()
}

/**
 * Runs the baseline and the contenders part by part: for each part each contender runs once,
 * in an order that rotates so that none always runs first or after the same one. The heap is
 * collected before every run (with `--expose-gc`; the young generation unless `collect` says
 * otherwise) so that one run's garbage is not charged to the next.
 */
export function interleave(baseline: Contender, contenders: readonly Contender[], options: InterleaveOptions = {}): Measured[] {
  const rounds = options.rounds ?? 5
  const warmup = options.warmup ?? 1
  const parts = options.parts ?? 4
  const what = options.collect ?? 'young'
  const all = [baseline, ...contenders]
  const rates = all.map(() => [] as number[])
  let turn = 0
  for (let round = 0; round < warmup + rounds; round++) {
    for (let part = 0; part < parts; part++, turn++) {
      const sample: number[] = new Array<number>(all.length).fill(0)
      for (let k = 0; k < all.length; k++) {
        const index = (k + turn) % all.length
        const contender = all[index] as Contender
        collect(what)
        const start = process.hrtime.bigint()
        const handled = contender.run(part, parts)
        const elapsed = Number(process.hrtime.bigint() - start) / 1e9
        sample[index] = handled / elapsed
      }
      if (round >= warmup) sample.forEach((rate, i) => (rates[i] as number[]).push(rate))
    }
  }
  const base = rates[0] as number[]
  return all.map((contender, i) => ({
    name: contender.name,
    rates: rates[i] as number[],
    ratios: (rates[i] as number[]).map((rate, r) => rate / (base[r] as number)),
  }))
}

/** A row from a measured contender. */
export function toRow(
  measured: Measured,
  baselineName: string | undefined,
  params: Record<string, unknown>,
  extra: { metrics?: Record<string, unknown>; target?: { text: string; threshold: number } } = {},
): Row {
  const ratio = baselineName === undefined ? null : median(measured.ratios)
  const row: Row = {
    name: measured.name,
    eventsPerSecond: Math.round(median(measured.rates)),
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    ...(baselineName === undefined ? {} : { baseline: baselineName }),
    params,
    ...(extra.metrics ? { metrics: extra.metrics } : {}),
    ...(extra.target && ratio !== null ? { target: { text: extra.target.text, met: ratio >= extra.target.threshold } } : {}),
  }
  return row
}

function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M/s`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k/s`
  return `${n.toFixed(0)} /s`
}

/** The rows as a plain-text table for the terminal. */
export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((row) => {
    const metrics = row.metrics
      ? Object.entries(row.metrics)
          .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(4)) : String(v)}`)
          .join(' ')
      : ''
    const target = row.target ? `${row.target.met ? 'MET' : 'MISSED'} (${row.target.text})` : ''
    return [row.name, formatRate(row.eventsPerSecond), row.ratio === null ? '' : `${(row.ratio * 100).toFixed(1)}%`, target, metrics]
  })
  const header = ['name', 'events/s', 'ratio', 'target', 'other']
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)))
  const pad = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()
  return [pad(header), pad(widths.map((w) => '-'.repeat(w))), ...lines.map(pad)].join('\n')
}
