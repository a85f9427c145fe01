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
    ['@fates-rx/core/sans-io', 'identifyWait'],
    ['@fates-rx/core/sans-io', 'connectionStep'],
    ['@fates-rx/core/socket', 'webSocket$'],
    ['@fates-rx/core/building-blocks', 'identifyWait'],
    ['@fates-rx/core/building-blocks', 'step'],
    ['@fates-rx/core/testing', 'scriptedWebSockets'],
    ['@fates-rx/core/worker', 'startHub'],
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
        'CloseCode', 'ClosePolicy', 'ConnectOptionsError', 'ControlCode', 'EventName', 'NoEventStats', 'Transitions', 'connect', 'decodePayloads',
        'dedupeEvents', 'eventLabel', 'eventStats', 'fromFrames', 'isEvent', 'ofEvent', 'partitionPayloads', 'splitFrames',
      ].sort(),
    )
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    for (const name of names.split(' ')) expect(readme, name).toContain(name)
  })

  // `export type *` once put 131 names into autocomplete, codecs and tables among them that
  // then failed as values (TS1362). Every name the typings declare as a value must be one.
  it.each(['index', 'protocol', 'sans-io', 'socket', 'testing', 'worker'])('dist/%s.d.ts declares as values only what the module exports at run time', async (entry) => {
    const ts = (await import('typescript')).default
    const file = fileURLToPath(new URL(`../dist/${entry}.d.ts`, import.meta.url))
    const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true })
    const checker = program.getTypeChecker()
    const source = program.getSourceFile(file)
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    if (module === undefined) throw new Error(`no module symbol for ${file}`)
    const declared = checker.getExportsOfModule(module)
    const values = declared
      .filter((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
        // A type-only re-export of a value is an alias whose own declaration says `type`.
        const typeOnly = symbol.declarations?.some((d) => (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly))) ?? false
        return (target.flags & ts.SymbolFlags.Value) !== 0 && !typeOnly
      })
      .map((symbol) => symbol.name)
      .sort()
    const runtime = run('module', `const m = await import('${packageDir}dist/${entry}.js'); console.log(Object.keys(m).sort().join(' '))`)
    expect(values).toEqual(runtime.split(' '))
    expect(values.length).toBeGreaterThan(0)
  })

  it('keeps the main entry small: about twice as many type names as values, each one an app meets', async () => {
    const ts = (await import('typescript')).default
    const file = fileURLToPath(new URL('../dist/index.d.ts', import.meta.url))
    const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true })
    const checker = program.getTypeChecker()
    const source = program.getSourceFile(file)
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    if (module === undefined) throw new Error(`no module symbol for ${file}`)
    // 131 names before; the machine's inputs, effects and budget types are on /sans-io now.
    expect(checker.getExportsOfModule(module).length).toBeLessThanOrEqual(70)
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
