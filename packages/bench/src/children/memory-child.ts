/**
 * Section 3's measuring process, started fresh (with `--expose-gc`) so that nothing else lives
 * on its heap: heap used after a full collection before and after pushing `events` events
 * (unique IDs, 10 per frame) through one consumer, and once more midway to tell a one-time
 * fill (the dedupe memory reaching its capacity) from steady growth.
 *
 * argv: consumer name, events. Reports `{ before, midway, after, seconds, delivered }` over IPC.
 *
 * @packageDocumentation
 */
import { generatePayloads, toFrames } from '../corpus.js'
import { type ConsumerName, consumers, loadConnectChecks } from '../consumers.js'
import type { MemoryReport } from '../ipc.js'

const [name = 'baseline', eventsArg = '1000000'] = process.argv.slice(2)
const total = Number(eventsArg)
const gc = globalThis.gc
if (gc === undefined) throw new Error('memory-child needs --expose-gc')

function heapAfterGc(): number {
  // Twice: the first pass can leave garbage that finalizers or weak maps free for the second.
  gc?.()
  gc?.()
  return process.memoryUsage().heapUsed
}

if (!(name in consumers)) throw new Error(`unknown consumer ${name}`)
// As a page has it by the time its socket opens (see loadConnectChecks).
if (name === 'connectInProcess') await loadConnectChecks()
const consumer = consumers[name as ConsumerName]()
const CHUNK = 20_000
// One chunk of realistic events is generated once; every chunk reuses it with fresh event IDs
// (the counter in the eid's last group), which is much cheaper than generating 1M events.
const templates = generatePayloads({ payloads: CHUNK, controlShare: 0, repeatShare: 0 }).map((p) => p.json)
const EID = /("eid":"[0-9a-f-]{24})[0-9a-f]{12}"/

function chunkFrames(offset: number, count: number): string[] {
  const payloads = templates.slice(0, count).map((json, i) => ({
    json: json.replace(EID, (_, prefix: string) => `${prefix}${(offset + i).toString(16).padStart(12, '0')}"`),
    control: false,
  }))
  return toFrames(payloads, 10)
}

// Warm up with a throwaway consumer of the same kind on IDs the measured run never sees:
// compiled code and first-use allocations are then on the heap before the first measurement,
// which should measure what the consumer retains, not what the engine compiles.
{
  const warm = consumers[name as ConsumerName]()
  for (const frame of chunkFrames(0xf000_0000, CHUNK)) warm.push(frame)
  warm.close()
}
const before = heapAfterGc()
let midway = 0
let pushed = 0
let seconds = 0

/** One chunk, in a function of its own so that none of its frames is still referenced when the heap is measured. */
function pushChunk(): void {
  const count = Math.min(CHUNK, total - pushed)
  const frames = chunkFrames(pushed, count)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < frames.length; i++) consumer.push(frames[i] as string)
  seconds += Number(process.hrtime.bigint() - t0) / 1e9
  pushed += count
}

while (pushed < total) {
  pushChunk()
  if (midway === 0 && pushed >= total / 2) midway = heapAfterGc()
}
const after = heapAfterGc()
const delivered = consumer.delivered()
consumer.close()
const report: MemoryReport = { before, midway, after, seconds, delivered, pushed }
process.send?.(report)
process.disconnect?.()
