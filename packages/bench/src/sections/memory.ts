/**
 * Section 3: heap after GC before and after 1M events, each consumer in a fresh process.
 *
 * @packageDocumentation
 */
import { ConsumerLabel, type ConsumerName } from '../consumers.js'
import { start, stop, within } from '../child.js'
import type { Row } from '../harness.js'
import type { MemoryReport } from '../ipc.js'

const LIMIT = 2 * 2 ** 20

/** Section 3's rows: the baseline for reference, then `fromFrames` with dedupe and `connect()`, each held to the growth target. */
export async function benchMemory(events = 1_000_000): Promise<Row[]> {
  const rows: Row[] = []
  for (const name of ['baseline', 'fromFramesDedupe', 'connectInProcess'] as const satisfies readonly ConsumerName[]) {
    const { child, hello } = await within(start<MemoryReport>('./children/memory-child.js', [name, String(events)], ['--expose-gc']), 180_000, `memory of ${name}`)
    await stop(child)
    const growth = hello.after - hello.before
    rows.push({
      name: `memory: ${ConsumerLabel[name]}, heap growth over ${events / 1e6}M events`,
      eventsPerSecond: Math.round(hello.pushed / hello.seconds),
      ratio: null,
      params: { section: 'memory', events, perFrame: 10, dedupeCapacity: name === 'baseline' ? null : 10_000 },
      metrics: {
        heapBeforeMB: Math.round(hello.before / 1e4) / 100,
        heapMidwayMB: Math.round(hello.midway / 1e4) / 100,
        heapAfterMB: Math.round(hello.after / 1e4) / 100,
        growthMB: Math.round(growth / 1e4) / 100,
        secondHalfGrowthMB: Math.round((hello.after - hello.midway) / 1e4) / 100,
        delivered: hello.delivered,
      },
      ...(name === 'baseline' ? {} : { target: { text: 'growth ≤ 2 MB', met: growth <= LIMIT } }),
    })
  }
  return rows
}
