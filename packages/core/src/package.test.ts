import { execFileSync } from 'node:child_process'
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
  ])('%s loads from Node ESM and CommonJS', (specifier, name) => {
    const esm = run('module', `const m = await import('${specifier}'); console.log(typeof m.${name})`)
    const cjs = run('commonjs', `const m = require('${specifier}'); console.log(typeof m.${name})`)
    expect(esm).not.toBe('undefined')
    expect(cjs).toBe(esm)
  })

  it('keeps the protocol entry free of RxJS', () => {
    const loaded = run(
      'commonjs',
      `require('@fates-rx/core/protocol'); console.log(Object.keys(require.cache).some((f) => f.includes('/rxjs/')))`,
    )
    expect(loaded).toBe('false')
  })
})
