import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Imports the built package the way users will: by its name, through its `exports` map, from
// a fresh Node process in both module systems. (Run after `tsc -b`; `pnpm test` builds first.)
const packageDir = fileURLToPath(new URL('..', import.meta.url))

function run(kind: 'module' | 'commonjs', code: string): string {
  return execFileSync(process.execPath, ['--no-warnings', `--input-type=${kind}`, '-e', code], {
    cwd: packageDir,
    encoding: 'utf8',
  }).trim()
}

describe('the published entry points', () => {
  it.each([
    ['@fates-rx/core', 'eventLabel'],
    ['@fates-rx/core/protocol', 'ServerPayload'],
    ['@fates-rx/core/building-blocks', 'identifyWait'],
    ['@fates-rx/core/testing', 'scriptedWebSockets'],
  ])('%s loads from Node ESM and CommonJS', (specifier, name) => {
    const esm = run('module', `const m = await import('${specifier}'); console.log(typeof m.${name})`)
    const cjs = run('commonjs', `const m = require('${specifier}'); console.log(typeof m.${name})`)
    expect(esm).not.toBe('undefined')
    expect(cjs).toBe(esm)
  })

  it('keeps the main entry to what the README documents (building blocks are on their own entry)', () => {
    const names = run('module', `const m = await import('@fates-rx/core'); console.log(Object.keys(m).sort().join(' '))`)
    expect(names.split(' ')).toEqual(
      [
        'ClosePolicy', 'ConnectOptionsError', 'EventName', 'NoEventStats', 'Transitions', 'connect', 'decodePayloads',
        'dedupeEvents', 'eventLabel', 'eventStats', 'fromFrames', 'isEvent', 'ofEvent', 'partitionPayloads', 'splitFrames',
      ].sort(),
    )
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    for (const name of names.split(' ')) expect(readme, name).toContain(name)
  })

  it('keeps the protocol entry free of RxJS', () => {
    const loaded = run(
      'commonjs',
      `require('@fates-rx/core/protocol'); console.log(Object.keys(require.cache).some((f) => f.includes('/rxjs/')))`,
    )
    expect(loaded).toBe('false')
  })

  it('keeps the test kit free of any test runner: it imports only the runtime dependencies', async () => {
    const { build } = await import('esbuild')
    const result = await build({
      entryPoints: [fileURLToPath(new URL('../dist/testing.js', import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      packages: 'external',
      platform: 'neutral',
      logLevel: 'silent',
    })
    const external = new Set(
      Object.values(result.metafile.inputs).flatMap((input) => input.imports.filter((i) => i.external).map((i) => i.path)),
    )
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>
      peerDependencies: Record<string, string>
    }
    const runtime = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
    expect(external.size).toBeGreaterThan(0)
    for (const name of external) expect(runtime).toContain(name)
  })
})
