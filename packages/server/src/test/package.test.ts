// What the published packages carry: code and its sources, never tests, test harnesses or
// build-info files.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const packed = (pkg: string): string[] => {
  const cwd = fileURLToPath(new URL(`../../../${pkg}`, import.meta.url))
  const output = execFileSync('pnpm', ['pack', '--dry-run', '--json'], { cwd, encoding: 'utf8' })
  return (JSON.parse(output) as { files: { path: string }[] }).files.map((file) => file.path)
}

describe.each(['server', 'core'])('the packed @fates-rx/%s', (pkg) => {
  it('carries its entry points and no tests, harnesses or .tsbuildinfo', () => {
    const files = packed(pkg)
    expect(files).toContain('dist/index.js')
    expect(files).toContain('src/index.ts')
    expect(files.filter((path) => /\.(test|spec)\.ts$|(^|\/)test\/|\.tsbuildinfo$|test-support/.test(path))).toEqual([])
  })
})
