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
import { generatePayloads, toFrames } from './corpus.js'
import { consumers } from './consumers.js'

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

const make = consumers[name]
if (make === undefined) throw new Error(`unknown consumer ${name}`)
const consumer = make()
const CHUNK = 20_000
// Generate one chunk ahead of time so that the generator's own first-use allocations
// (compiled code, interned strings) are on the heap before the first measurement.
generatePayloads({ payloads: CHUNK, controlShare: 0, repeatShare: 0, seed: 1 })
const before = heapAfterGc()
let midway = 0
let pushed = 0
let seconds = 0
for (let chunk = 0; pushed < total; chunk++) {
  const payloads = generatePayloads({ payloads: Math.min(CHUNK, total - pushed), controlShare: 0, repeatShare: 0, seed: chunk + 1, eidOffset: pushed })
  const frames = toFrames(payloads, 10)
  const t0 = process.hrtime.bigint()
  for (const frame of frames) consumer.push(frame)
  seconds += Number(process.hrtime.bigint() - t0) / 1e9
  pushed += payloads.length
  if (midway === 0 && pushed >= total / 2) midway = heapAfterGc()
}
const after = heapAfterGc()
const delivered = consumer.delivered()
consumer.close()
process.send?.({ before, midway, after, seconds, delivered, pushed })
process.disconnect?.()
