/**
 * `pnpm bench`: runs the sections, prints the table and writes results.json.
 *
 * Usage: `node --expose-gc dist/main.js [section …] [--quick]`, sections `pipeline`, `e2e`,
 * `memory`, `fanout`, `fanout-redis`, `server`, `publish`, `tabs`, `relay` (default: all; `fanout-redis` starts its own redis-server). `--quick` shrinks every section for a smoke run. Only a
 * full run (every section, not quick) writes results.json, so that the committed file is
 * always one whole recorded run.
 *
 * @packageDocumentation
 */
import { writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { formatTable, type Row } from './harness.js'
import { bareReceiver, benchE2e, connectReceiver } from './sections/e2e.js'
import { benchFanout, benchFanoutRedis } from './sections/fanout.js'
import { loadConnectChecks } from './consumers.js'
import { benchMemory } from './sections/memory.js'
import { benchPipeline } from './sections/pipeline.js'
import { benchPublish } from './sections/publish.js'
import { benchRelay } from './sections/relay.js'
import { benchServerTargets } from './sections/server-targets.js'
import { benchTabs } from './sections/tabs.js'

const SECTIONS = ['pipeline', 'e2e', 'memory', 'fanout', 'fanout-redis', 'server', 'publish', 'tabs', 'relay'] as const
type Section = (typeof SECTIONS)[number]

const { values, positionals: asked } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, allowPositionals: true })
const quick = values.quick
for (const a of asked) if (!(SECTIONS as readonly string[]).includes(a)) throw new Error(`unknown section ${a}; known: ${SECTIONS.join(', ')}`)
const sections: readonly Section[] = asked.length > 0 ? (asked as Section[]) : SECTIONS

if (typeof globalThis.gc !== 'function') console.warn('warning: run with --expose-gc (pnpm bench does) to collect between passes')

const started = Date.now()
// The machine's load before and after: on a shared machine it says how busy the run's neighbours were.
const loadBefore = loadavg()
const rows: Row[] = []
for (const section of sections) {
  const t0 = Date.now()
  console.error(`… ${section}`)
  switch (section) {
    case 'pipeline':
      await loadConnectChecks()
      rows.push(...benchPipeline(quick ? { payloads: 20_000, rounds: 3, warmup: 1 } : {}))
      break
    case 'e2e':
      rows.push(...(await benchE2e({ receivers: [bareReceiver, connectReceiver], ...(quick ? { payloads: 20_000, rounds: 2, seconds: 1 } : {}) })))
      break
    case 'memory':
      rows.push(...(await benchMemory(quick ? 100_000 : 1_000_000)))
      break
    case 'fanout':
      rows.push(
        ...(await benchFanout(
          quick
            ? { cases: [{ clients: 1, events: 10_000 }, { clients: 100, events: 500 }, { clients: 1000, events: 100 }] }
            : {},
        )),
      )
      break
    case 'server':
      rows.push(...(await benchServerTargets(quick ? { redisEvents: 10_000, handshakes: 300, rounds: 2, turnedAway: 300 } : {})))
      break
    case 'publish':
      rows.push(...(await benchPublish(quick ? { batchEvents: 20_000, singleEvents: 1_000, rounds: 1, redisEvents: 3_000, redisRounds: 1 } : {})))
      break
    case 'tabs':
      rows.push(...(await benchTabs(quick ? { events: 5_000, rounds: 2 } : {})))
      break
    case 'relay':
      rows.push(...(await benchRelay(quick ? { viewers: 200, events: 200, rounds: 2 } : {})))
      break
    case 'fanout-redis':
      rows.push(
        ...(await benchFanoutRedis(
          quick ? { cases: [{ clients: 1, events: 100 }, { clients: 100, events: 100 }, { clients: 1000, events: 50 }], rounds: 1 } : {},
        )),
      )
      break
  }
  console.error(`  ${section} took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}

const machine = {
  nproc: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  loadAverage1mBefore: Math.round((loadBefore[0] ?? 0) * 100) / 100,
  loadAverage1mAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100,
}
console.log(formatTable(rows))
console.log(`\n${machine.nproc} × ${machine.cpu}, Node ${machine.node}; ${((Date.now() - started) / 1000).toFixed(0)} s`)

if (!quick && sections.length === SECTIONS.length) {
  const out = fileURLToPath(new URL('../results.json', import.meta.url))
  const body = { recordedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000), machine, sections, rows }
  writeFileSync(out, `${JSON.stringify(body, null, 2)}\n`)
  console.log(`wrote ${out}`)
}
