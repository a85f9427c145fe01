import fc from 'fast-check'
import { Redacted } from '../codec/redact.js'

// A JSON writer that spells every string character in a random legal way, and can slip a
// secret into strings as it writes them: the adversary of the redaction property tests. Any
// server (Go's encoding/json, JSON.stringify, a hand-written one) writes some such spelling.

/** A small deterministic generator (mulberry32), so that fast-check can replay a failure from its seed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const short: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '/': '\\/',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

/** One UTF-16 code unit as JSON may spell it inside a string, chosen by `next`. */
function spell(unit: number, next: () => number): string {
  const char = String.fromCharCode(unit)
  const mustEscape = unit < 0x20 || char === '"' || char === '\\'
  const roll = next()
  if (!mustEscape && roll < 0.5) return char
  if (short[char] !== undefined && roll < 0.7) return short[char] as string
  const hex = unit.toString(16).padStart(4, '0')
  return `\\u${next() < 0.5 ? hex : hex.toUpperCase()}`
}

/** Options of {@link writeJson}. */
export interface WriteJsonOptions {
  /** Slipped into strings (values and keys) as they are written. */
  readonly secret?: string
  /** The chance that a given string gets the secret. */
  readonly chance?: number
}

/**
 * `value` as JSON text, every string character spelt at random (literal, `\uXXXX` in either
 * case, or a short escape), with `secret` inserted at random places in random strings.
 * Returns the text and the value that text parses to (the secret included).
 */
export function writeJson(value: unknown, seed: number, options: WriteJsonOptions = {}): { text: string; value: unknown; inserted: number } {
  const next = random(seed)
  let inserted = 0
  const chance = options.chance ?? 0.3
  const str = (s: string): string => {
    let out = s
    if (options.secret !== undefined && next() < chance) {
      const at = Math.floor(next() * (s.length + 1))
      out = s.slice(0, at) + options.secret + s.slice(at)
      inserted++
    }
    return out
  }
  const spellString = (s: string): string => {
    let out = '"'
    for (let i = 0; i < s.length; i++) out += spell(s.charCodeAt(i), next)
    return `${out}"`
  }
  const walk = (v: unknown): { text: string; value: unknown } => {
    if (typeof v === 'string') {
      const s = str(v)
      return { text: spellString(s), value: s }
    }
    if (Array.isArray(v)) {
      const items = v.map(walk)
      return { text: `[${items.map((i) => i.text).join(',')}]`, value: items.map((i) => i.value) }
    }
    if (typeof v === 'object' && v !== null) {
      const parts: string[] = []
      const out: Record<string, unknown> = {}
      for (const [key, item] of Object.entries(v)) {
        const k = str(key)
        const w = walk(item)
        parts.push(`${spellString(k)}:${w.text}`)
        Object.defineProperty(out, k, { value: w.value, enumerable: true, writable: true, configurable: true })
      }
      return { text: `{${parts.join(',')}}`, value: out }
    }
    const text = JSON.stringify(v) ?? 'null'
    return { text, value: JSON.parse(text) as unknown }
  }
  const written = walk(value)
  return { ...written, inserted }
}

/** Every string in `value`, keys included, however deep. */
export function allStrings(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value)
  else if (Array.isArray(value)) for (const item of value) allStrings(item, into)
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      into.push(key)
      allStrings(item, into)
    }
  }
  return into
}

/**
 * Secrets of every kind of character JSON escapes or not, 6 to 24 code units. Never holding
 * a bracket or fitting inside `[redacted]`: the marker itself would then show the secret.
 */
export const secretArb = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.'),
      fc.constantFrom('"', '\\', '/', '<', '>', '&', '\n', '\t', '\u0000', '\u001f', '\u2028', 'é', '\ud83d', '\ude00'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    minLength: 6,
    maxLength: 24,
  })
  .filter((s) => !/[[\]]/.test(s) && !Redacted.includes(s))
