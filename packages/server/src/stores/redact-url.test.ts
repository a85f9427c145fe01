import { describe, expect, it } from 'vitest'
import { redactUrl } from './redis.js'

// A password with an unescaped / (base64 passwords have them) splits the URL parser's
// authority: "u:123" becomes host and port, and the rest of the password the path.
describe('redactUrl: no part of a password', () => {
  it.each([
    ['redis://u:123/SECRET@127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://:/SECRET@127.0.0.1:6379/2', 'redis://127.0.0.1:6379/2'],
    ['postgres://fates:8080/SECRET@db.example:5432/fates', 'postgres://db.example:5432/fates'],
    ['postgres://fates:12?SECRET@db.example:5432/fates', 'postgres://db.example:5432/fates'],
    ['redis://u:pass@127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['postgres://u:p@ss@db:5432/x', 'postgres://db:5432/x'],
  ])('%s', (url, expected) => {
    const shown = redactUrl(url)
    expect(shown).not.toMatch(/SECRET|123|pass|ss@|:12/)
    expect(shown).toBe(expected)
  })
})
