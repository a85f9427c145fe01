/**
 * Two builds of core's `connect()` compared, each in processes of its own.
 *
 * Usage: `node --expose-gc dist/compare.js <before> <after> [--per-frame 10] [--pairs 5] [--rounds 9]`,
 * where `<before>` and `<after>` are built `dist/` folders of `@fates-rx/core` placed under
 * `packages/core/` (so that they resolve its rxjs), e.g. `packages/core/dist-before`.
 *
 * Why processes of their own: loading both builds into one process and interleaving them
 * read 1.05 for the same build loaded twice (2026-12-06), a bias as large as the changes being
 * measured. Here each child process loads one build, runs it against split + parse on the
 * same corpus in interleaved rounds (CPU time, the young generation collected before each pass,
 * as section 1 does), and reports the median of its per-round ratios; the parent alternates the builds' children, pair by pair and in
 * alternating order, and reports each build's median and range, and after / before.
 *
 * @packageDocumentation
 */
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { connect as Connect } from '@fates-rx/core'
import { connectInProcess, consumers, type FrameConsumer, loadConnectChecks } from './consumers.js'
import { buildCorpora } from './corpus.js'
import { collect } from './harness.js'
import { median } from './stats.js'

const { values, positionals } = parseArgs({
  options: {
    child: { type: 'string' },
    'per-frame': { type: 'string', default: '10' },
    pairs: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '9' },
  },
  allowPositionals: true,
})
const perFrame = Number(values['per-frame'])
const rounds = Number(values.rounds)
const pairs = Number(values.pairs)
for (const [name, value] of [['--per-frame', perFrame], ['--rounds', rounds], ['--pairs', pairs]] as const) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number ≥ 1, got ${String(value)}`)
}

/** One child's measure: the build's `connect()` over split + parse, per round, in CPU time. */
async function child(dist: string): Promise<void> {
  const lib = (await import(pathToFileURL(resolve(dist, 'index.js')).href)) as { connect: typeof Connect }
  await loadConnectChecks(5_000, lib.connect)
  const [corpus] = buildCorpora([perFrame], { payloads: 200_000 })
  if (corpus === undefined) throw new Error('no corpus')
  const cpu = (make: () => FrameConsumer): number => {
    collect('young')
    const consumer = make()
    const start = process.cpuUsage()
    for (let i = 0; i < corpus.frames.length; i++) consumer.push(corpus.frames[i] as string)
    const used = process.cpuUsage(start)
    consumer.close()
    return used.user + used.system
  }
  const ratios: number[] = []
  // One warm-up round, then `rounds` measured, the order flipped every round.
  for (let round = 0; round <= rounds; round++) {
    const connectFirst = round % 2 === 0
    const a = connectFirst ? cpu(() => connectInProcess(undefined, lib.connect)) : cpu(consumers.baseline)
    const b = connectFirst ? cpu(consumers.baseline) : cpu(() => connectInProcess(undefined, lib.connect))
    const [ofConnect, ofBaseline] = connectFirst ? [a, b] : [b, a]
    if (round > 0) ratios.push(ofBaseline / ofConnect)
  }
  process.stdout.write(`${JSON.stringify({ ratio: median(ratios) })}\n`)
}

/** Runs one child for `dist` and returns its ratio. */
function measure(dist: string): number {
  const self = fileURLToPath(import.meta.url)
  const run = spawnSync(process.execPath, ['--expose-gc', self, '--child', dist, '--per-frame', String(perFrame), '--rounds', String(rounds)], { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`the child for ${dist} failed (${String(run.status)}): ${run.stderr}`)
  const last = run.stdout.trim().split('\n').at(-1) ?? ''
  return (JSON.parse(last) as { ratio: number }).ratio
}

if (values.child !== undefined) await child(values.child)
else {
  const [before, after] = positionals
  if (before === undefined || after === undefined) throw new Error('usage: compare.js <before dist> <after dist> [--per-frame N] [--pairs N] [--rounds N]')
  const measured: Record<'before' | 'after', number[]> = { before: [], after: [] }
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)
    for (const which of order) measured[which].push(measure(which === 'before' ? before : after))
    console.log(`pair ${pair + 1}: before ${(measured.before.at(-1) as number).toFixed(3)}, after ${(measured.after.at(-1) as number).toFixed(3)}`)
  }
  const line = (which: 'before' | 'after'): string =>
    `${which}: connect() / split + parse ${median(measured[which]).toFixed(3)} (${Math.min(...measured[which]).toFixed(3)} to ${Math.max(...measured[which]).toFixed(3)})`
  console.log(`@${perFrame}/frame, ${pairs} pairs of processes, ${rounds} rounds each`)
  console.log(line('before'))
  console.log(line('after'))
  console.log(`after / before: ${(median(measured.after) / median(measured.before)).toFixed(3)}; read it against the ranges above, which are the noise`)
}
