/**
 * The browser's `localStorage` or `sessionStorage`, or `undefined` where there is none: a browser
 * that blocks storage (cookies blocked for the site, a sandboxed frame, a `data:` page) throws on
 * reading the property itself, before any `getItem` a caller could wrap.
 */
export function browserStorage(name: 'localStorage' | 'sessionStorage'): Storage | undefined {
  try {
    return (globalThis as Partial<Record<typeof name, Storage | null>>)[name] ?? undefined
  } catch {
    return undefined
  }
}
