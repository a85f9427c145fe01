import type { TargetSettings } from './streams/settings.js'

/**
 * Where `pnpm start` (and the end-to-end tests) describe the demo target: a same-origin JSON
 * served by the Vite server from its own process. The token never travels in a URL, and a
 * production build simply has no such file.
 */
export const demoTargetPath = '/demo-target.json'

/** The prefill for the first panel, if the server offers one. */
export interface DemoTarget {
  readonly settings: TargetSettings
  readonly autoConnect: boolean
}

/** Fetches the demo target; `undefined` when there is none or it is malformed. */
export async function loadDemoTarget(): Promise<DemoTarget | undefined> {
  try {
    const response = await fetch(demoTargetPath, { cache: 'no-store', credentials: 'omit' })
    if (!response.ok || !(response.headers.get('content-type') ?? '').includes('application/json')) return undefined
    return parseDemoTarget(await response.json())
  } catch {
    return undefined
  }
}

/** Reads a demo target from JSON; `undefined` unless url, id and token are strings. */
export function parseDemoTarget(body: unknown): DemoTarget | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const fields = body as Record<string, unknown>
  const { url, id, token } = fields
  if (typeof url !== 'string' || typeof id !== 'string' || typeof token !== 'string') return undefined
  return {
    settings: {
      url,
      id,
      token,
      kind: fields['kind'] === 'server' ? 'server' : 'bot',
      sendAll: fields['sendAll'] === true,
      sendNone: false,
      ...(typeof fields['rateWindowMs'] === 'number' && fields['rateWindowMs'] > 0 ? { rateWindowMs: fields['rateWindowMs'] } : {}),
    },
    autoConnect: fields['autoConnect'] !== false,
  }
}
