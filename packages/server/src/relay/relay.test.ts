// The relay's edge in process, over core's fake sockets: what it publishes, whom it tells what,
// and that it opens nothing it should not. (End to end with real processes: test/relay.test.ts.)
import { describe, expect, it } from 'vitest'
import { CloseCode, CloseInfo, EventName, RelayCloseCode, RelayCloseInfo, RelayControlCode } from '@fates-rx/core/protocol'
import { donePriorPayload, fakeWebSockets, fatesEvent, invalidAuthPayload, joinFrames, wrapEvent, identityPayload, readyPayload, type FakeWebSocket } from '@fates-rx/core/testing'
import { silentLogger } from '../log.js'
import { PublishError } from '../publish.js'
import type { PublishRequest } from '../protocol/publish-events.js'
import type { ProtocolTimers } from '../protocol/timers.js'
import type { Viewer } from '../protocol/viewers.js'
import type { Credentials } from '../stores/store.js'
import { HoldMs } from './machine.js'
import { PublishRetry, Relay, UpstreamLimits } from './relay.js'
import { LiveDetail } from './upstream-status.js'

const Bot = '811073947382579200'
const Token = 'upstream-secret'

/** Timers fired by hand: all that are due, or (`upToMs`) those armed for at most that long. */
function manualTimers(): ProtocolTimers & { fire(upToMs?: number): void; pending: number } {
  let timers: { callback: () => void; live: boolean; ms: number }[] = []
  return {
    after(ms, callback) {
      const timer = { callback, live: true, ms }
      timers.push(timer)
      return { refresh() {}, cancel: () => void (timer.live = false) }
    },
    every() {
      return { refresh() {}, cancel() {} }
    },
    soon(callback) {
      setImmediate(callback)
    },
    fire(upToMs = Infinity) {
      const due = timers.filter((t) => t.live && t.ms <= upToMs)
      timers = timers.filter((t) => t.live && t.ms > upToMs)
      for (const t of due) t.callback()
    },
    get pending() {
      return timers.filter((t) => t.live).length
    },
  }
}

/** A viewer that records what it is told, and how often a hold let it in. */
function recordingViewer(): Viewer & { told: string[]; refused: { code: string; closeCode: number; reason: string }[]; admissions: number } {
  const told: string[] = []
  const refused: { code: string; closeCode: number; reason: string }[] = []
  return {
    told,
    refused,
    admissions: 0,
    tell: (code, detail) => void told.push(`${code}: ${detail}`),
    refuse: (code, _detail, closeCode, reason) => void refused.push({ code, closeCode, reason }),
    admitted() {
      this.admissions++
    },
  }
}

function setup(publish: (requests: readonly PublishRequest[]) => Promise<void> = async () => {}, logger = silentLogger) {
  const sockets = fakeWebSockets()
  const timers = manualTimers()
  const batches: PublishRequest[][] = []
  /** Per batch: published live (fanned out to viewers), or stored as history only. */
  const live: boolean[] = []
  const relay = new Relay(
    // No jitter: a reconnect's backoff is 0 ms.
    { upstream: 'ws://origin.invalid/ws', bots: [{ id: Bot, token: Token }], servers: [], graceMs: 1000, connect: { WebSocket: sockets.WebSocket, random: () => 0 } },
    {
      publish: async (requests, options) => {
        batches.push([...requests])
        live.push(options?.live ?? true)
        await publish(requests)
        return requests.map(() => ({ eid: '', repeat: false }))
      },
      logger,
      timers,
    },
  )
  return { relay, sockets, timers, batches, live }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

const eidsOf = (batch: readonly PublishRequest[] | undefined) => batch?.map((r) => (r.event as { m: { eid: string } }).m.eid)

/** A bot view on the target's channel, with its eid and `m.ts`. */
const viewAt = (eid: string, ts: number) => wrapEvent(fatesEvent(EventName.BotView, { user: '1' }, { eid, ts }), `bot-${Bot}`)

/**
 * Until the relay's upstream client has opened socket number `n`: it reads its mark (core's
 * `persist`, a chunk loaded with `import()`) before its first connection, a few turns after the
 * viewer joined.
 */
async function opened(sockets: { readonly sockets: readonly unknown[] }, n = 1): Promise<void> {
  // By the clock, not by turns: the chunk's first load reads a file, which takes as long as the machine is busy.
  const end = Date.now() + 5_000
  while (sockets.sockets.length < n) {
    if (Date.now() > end) throw new Error(`no socket ${n} opened within 5 s`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

describe('Relay', () => {
  it('opens one upstream for its viewers, identifies with the upstream token, and publishes each turn\'s events as one batch, marks stripped', async () => {
    const { relay, sockets, batches } = setup()
    const a = recordingViewer()
    const b = recordingViewer()
    relay.joined('bot', Bot, a)
    relay.joined('bot', Bot, b)
    await opened(sockets)
    expect(sockets.sockets).toHaveLength(1)
    const socket = sockets.last().handshake()
    // It asks for the origin's history too (kept for viewers' send_all); this one is empty.
    expect(JSON.parse(socket.sent[0]!)).toMatchObject({ id: Bot, token: Token, bot: true, send_all: true })
    socket.frame(joinFrames(donePriorPayload()))
    const vote = fatesEvent(EventName.BotVote, { user: '1', votes: 2 }, { eid: 'e-1' })
    const reset = fatesEvent(EventName.VoteResetAll, {}, { eid: 'e-2' })
    socket.frame(joinFrames(wrapEvent(vote, `bot-${Bot}`), wrapEvent(reset, 'global')))
    await settle()
    expect(batches).toEqual([[{ channel: `bot-${Bot}`, event: { m: vote.m, ctx: vote.ctx } }, { channel: 'global', event: { m: reset.m, ctx: reset.ctx } }]])
    expect(a.told).toEqual([`${RelayControlCode.UpstreamConnecting}: The relay is connecting to its upstream; events follow once it is live.`, expect.stringMatching(/^upstream_live: /)])
    expect(relay.upstreams()).toEqual([{ target: `bot-${Bot}`, status: 'live', viewers: 2, events: 2, opened: 1, refused: 0, retries: 0, ready: true }])
    expect([...a.told, ...b.told].join('\n')).not.toContain(Token)
  })

  it('relays live what the origin published while the upstream opened, as a viewer identified at the origin then would have had it; older history stays history', async () => {
    const { relay, sockets, batches, live } = setup()
    const joinedAt = Date.now() / 1000
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    // The origin's history, asked for with send_all: one event from a minute before the viewer
    // joined, one published while the relay's upstream was connecting (after its `ready`).
    const before = fatesEvent(EventName.BotVote, { user: '1', votes: 1 }, { eid: 'before', ts: joinedAt - 60 })
    const during = fatesEvent(EventName.BotVote, { user: '1', votes: 2 }, { eid: 'during', ts: joinedAt + 0.5 })
    sockets.last().handshake().frame(joinFrames(wrapEvent(before, `bot-${Bot}`), wrapEvent(during, `bot-${Bot}`), donePriorPayload()))
    await settle()
    await settle()
    const eids = (batch: PublishRequest[] | undefined) => batch?.map((r) => (r.event as { m: { eid: string } }).m.eid)
    expect(batches.map(eids)).toEqual([['before'], ['during']])
    expect(live).toEqual([false, true])
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', events: 2 })
    // The first live of an opening speaks of no gap: the origin's history need not reach back
    // to the viewer's joining (here it does not), and nothing was relayed before it.
    expect(viewer.told.at(-1)).toBe(`${RelayControlCode.UpstreamLive}: ${LiveDetail.none}`)
  })

  it('refuses upstream events of another identity\'s channel and events over the size limit, says so in the log, and counts them', async () => {
    const errors: string[] = []
    const { relay, sockets, batches } = setup(async () => {}, { info() {}, error: (line) => void errors.push(line) })
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const own = fatesEvent(EventName.BotView, { user: '1' }, { eid: 'own' })
    const other = fatesEvent(EventName.BotView, { user: '1' }, { eid: 'other' })
    const big = fatesEvent(EventName.BotView, { user: 'x'.repeat(UpstreamLimits.maxEventBytes) }, { eid: 'big' })
    const global = fatesEvent(EventName.VoteResetAll, {}, { eid: 'g' })
    // The upstream asks for the origin's history (sendAll): live after done_prior.
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(wrapEvent(own, `bot-${Bot}`), wrapEvent(other, 'bot-42'), wrapEvent(big, `bot-${Bot}`), wrapEvent(global, 'global')))
    await settle()
    expect(batches.flat().map((r) => [r.channel, (r.event as { m: { eid: string } }).m.eid])).toEqual([
      [`bot-${Bot}`, 'own'],
      ['global', 'g'],
    ])
    expect(relay.upstreams()[0]).toMatchObject({ events: 4, refused: 2 })
    expect(errors).toEqual([
      `upstream bot ${Bot}: event other not relayed: it came on channel "bot-42", not bot-${Bot} or global`,
      expect.stringMatching(new RegExp(`^upstream bot ${Bot}: event big not relayed: \\d+ bytes of JSON, over the relay's limit of ${UpstreamLimits.maxEventBytes}$`)),
    ])
  })

  it('is ready for viewers only once the upstream it opened has been live, and stays ready while a live upstream reconnects', async () => {
    const { relay, sockets } = setup()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle', ready: true })
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    // Opened, no identity yet (a silent TCP peer looks the same).
    expect(relay.upstreams()[0]).toMatchObject({ status: 'connecting', ready: false })
    sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', ready: true })
    sockets.last().closeFromServer(1006)
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'connecting', ready: true })
  })

  it('drops only the event the server cannot store, and publishes the rest of its batch', async () => {
    let refusedOnce = false
    const { relay, sockets, batches } = setup(async (requests) => {
      if (!refusedOnce && requests.length === 3) {
        refusedOnce = true
        throw new PublishError('event: nested deeper than 32 levels', 1)
      }
    })
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const events = ['a', 'b', 'c'].map((eid) => fatesEvent(EventName.BotView, { user: '1' }, { eid }))
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(...events.map((e) => wrapEvent(e, `bot-${Bot}`))))
    await settle()
    expect(batches.map((batch) => batch.map((r) => (r.event as { m: { eid: string } }).m.eid))).toEqual([['a', 'b', 'c'], ['a', 'c']])
  })

  it('publishes a large frame in chunks of 100, in order, with a turn between them', async () => {
    const { relay, sockets, batches } = setup()
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const events = Array.from({ length: 250 }, (_, i) => fatesEvent(EventName.BotView, { user: '1' }, { eid: `e-${i}` }))
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(...events.map((e) => wrapEvent(e, `bot-${Bot}`))))
    await Promise.resolve()
    await Promise.resolve()
    expect(batches.map((b) => b.length)).toEqual([100])
    for (let i = 0; i < 3; i++) await settle()
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50])
    expect(batches.flat().map((r) => (r.event as { m: { eid: string } }).m.eid)).toEqual(events.map((e) => e.m.eid))
  })

  it('keeps core\'s identify budget across grace periods: viewers coming and going cannot spend the upstream\'s ratelimit', async () => {
    const { relay, sockets, timers } = setup()
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    // The origin says one request is left: not enough for another identify (it costs 2).
    sockets.last().handshake(1)
    relay.left('bot', Bot, viewer)
    timers.fire()
    expect(relay.upstreams()[0]?.status).toBe('idle')
    const back = recordingViewer()
    relay.joined('bot', Bot, back)
    // Long enough for an opening's socket (see `opened`; the chunk is loaded by now): none comes, the budget waits.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sockets.sockets).toHaveLength(1)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'connecting', opened: 2 })
    expect(back.told).toEqual([`${RelayControlCode.UpstreamConnecting}: The relay is connecting to its upstream; events follow once it is live.`])
  })

  it('tells viewers upstream_live only after the gap\'s events are published, and upstream_connecting after what came before the drop', async () => {
    const log: string[] = []
    const { relay, sockets } = setup(async (requests) => {
      log.push(`publish ${requests.map((r) => (r.event as { m: { eid: string } }).m.eid).join(',')}`)
    })
    relay.joined('bot', Bot, { tell: (code) => void log.push(code), refuse: () => {}, admitted: () => {} })
    await opened(sockets)
    const at = (eid: string, ts: number) => wrapEvent(fatesEvent(EventName.BotView, { user: '1' }, { eid, ts }), `bot-${Bot}`)
    // Stamped as the origin stamps them, after the upstream opened (its mark).
    const now = Date.now() / 1000
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(at('before', now + 1)))
    sockets.last().closeFromServer(1006)
    await settle()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(sockets.sockets).toHaveLength(2)
    // The origin is back: the resumed client asks for the history and gets the gap.
    const socket = sockets.last().handshake()
    expect(JSON.parse(socket.sent[0]!)).toMatchObject({ send_all: true })
    socket.frame(joinFrames(at('before', now + 1), at('gap', now + 2))).frame(joinFrames(donePriorPayload()))
    await settle()
    await settle()
    expect(log).toEqual([
      RelayControlCode.UpstreamConnecting,
      RelayControlCode.UpstreamLive,
      'publish before',
      RelayControlCode.UpstreamConnecting,
      'publish gap',
      RelayControlCode.UpstreamLive,
    ])
  })

  it('upstream refused: every viewer gets upstream_failed and 4503 naming the next retry, later ones at admission; only the retry timer reopens', async () => {
    const { relay, sockets, timers } = setup()
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    sockets.last().open().frame(joinFrames(identityPayload())).frame(joinFrames(invalidAuthPayload()))
    sockets.last().closeFromServer(4004, 'Invalid authentication, try again')
    await settle()
    const refusal = { code: RelayControlCode.UpstreamFailed, closeCode: RelayCloseCode.UpstreamFailed, reason: RelayCloseInfo[4503].reason }
    expect(viewer.refused).toEqual([refusal])
    expect(relay.admit('bot', Bot)).toMatchObject(refusal)
    relay.left('bot', Bot, viewer)
    const late = recordingViewer()
    relay.joined('bot', Bot, late)
    expect(late.refused).toEqual([refusal])
    expect(viewer.told.join('\n') + JSON.stringify(relay.admit('bot', Bot))).toMatch(/The relay tries again at \d{4}-\d\d-\d\dT/)
    relay.left('bot', Bot, late)
    await settle()
    // Viewers coming and going reopen nothing: one socket, failed, until the retry timer runs out.
    expect(sockets.sockets).toHaveLength(1)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'failed', retries: 0, ready: false })
    timers.fire()
    await settle()
    expect(sockets.sockets).toHaveLength(2)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'connecting', retries: 1, ready: false })
    expect(relay.admit('bot', Bot)).toBeUndefined()
    // Refused again: the next retry armed; closing the relay stops it.
    sockets.last().open().frame(joinFrames(identityPayload())).frame(joinFrames(invalidAuthPayload()))
    sockets.last().closeFromServer(4004, 'Invalid authentication, try again')
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'failed', retries: 1 })
    expect(timers.pending).toBe(1)
    await relay.close()
    expect(timers.pending).toBe(0)
  })

  it('refuses ids it does not relay as unknown (4004), and closes the upstream when the grace period runs out', async () => {
    const { relay, sockets, timers } = setup()
    expect(relay.admit('bot', '42')).toMatchObject({ code: 'invalid_auth', closeCode: 4004 })
    expect(relay.admit('bot', Bot)).toBeUndefined()
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    sockets.last().handshake()
    relay.left('bot', Bot, viewer)
    expect(timers.pending).toBe(1)
    expect(sockets.last().closedByClient).toBeUndefined()
    timers.fire()
    expect(sockets.last().closedByClient?.code).toBe(1000)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle', viewers: 0, opened: 1 })
    await relay.close()
  })
})

describe('Relay with several targets', () => {
  it('stores and relays a global event once, though every target\'s upstream receives it', async () => {
    const sockets = fakeWebSockets()
    const batches: PublishRequest[][] = []
    const other = '811073947382579201'
    const relay = new Relay(
      { upstream: 'ws://origin.invalid/ws', bots: [{ id: Bot, token: Token }, { id: other, token: 'other-secret' }], servers: [], graceMs: 1000, connect: { WebSocket: sockets.WebSocket, random: () => 0 } },
      {
        publish: async (requests) => {
          batches.push([...requests])
          return requests.map(() => ({ eid: '', repeat: false }))
        },
        logger: silentLogger,
        timers: manualTimers(),
      },
    )
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    relay.joined('bot', other, recordingViewer())
    await opened(sockets, 2)
    const [first, second] = sockets.sockets
    first?.handshake().frame(joinFrames(donePriorPayload()))
    second?.handshake().frame(joinFrames(donePriorPayload()))
    await settle()
    // The origin sends it on both connections; the second upstream, resuming after a drop of
    // its own, would send it again long after, when the store's history may have let it go.
    const reset = fatesEvent(EventName.VoteResetAll, {}, { eid: 'g-1' })
    first?.frame(joinFrames(wrapEvent(reset, 'global')))
    second?.frame(joinFrames(wrapEvent(reset, 'global')))
    await settle()
    expect(batches.flat().map((r) => `${r.channel} ${(r.event as { m: { eid: string } }).m.eid}`)).toEqual(['global g-1'])
    await relay.close()
  })
})

describe('Relay after its grace period', () => {
  it('holds viewers, reopening the upstream once, until it is live and its replay (the gap) is stored, then lets them in; the gap is stored, not relayed live', async () => {
    let release: (() => void) | undefined
    const { relay, sockets, timers, batches, live } = setup(async (requests) => {
      // The store takes its time with the gap.
      if (eidsOf(requests)?.includes('gap')) await new Promise<void>((resolve) => (release = resolve))
    })
    const now = Date.now() / 1000
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    // Stamped after the opening's mark (its joining less a second): live, and the resume mark.
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(viewAt('seen', now - 0.9)))
    await settle()
    relay.left('bot', Bot, viewer)
    timers.fire()
    // The reopening comes more than a second after what was published while it was closed.
    await new Promise((resolve) => setTimeout(resolve, 250))
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle', opened: 1 })

    // Held, to be turned away as before only past HoldMs (the connection's timer).
    const hold = { holdMs: HoldMs, refusal: { code: RelayControlCode.UpstreamConnecting, closeCode: CloseCode.InvalidConnection, reason: CloseInfo[CloseCode.InvalidConnection].reason } }
    expect(relay.admit('bot', Bot)).toMatchObject(hold)
    // Asking reopens nothing: a viewer that waits on the hold does.
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle', opened: 1 })
    const first = recordingViewer()
    const second = recordingViewer()
    relay.held('bot', Bot, first)
    await opened(sockets, 2)
    expect(relay.admit('bot', Bot)).toMatchObject(hold)
    relay.held('bot', Bot, second)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'connecting', opened: 2, viewers: 0 })
    // The origin replays from the last event relayed: that one (its mark), what was published
    // while the upstream was closed, and what came as it reopened.
    const reopened = Date.now() / 1000
    sockets.last().handshake().frame(joinFrames(viewAt('seen', now - 0.9), viewAt('gap', now - 0.8), viewAt('opening', reopened), donePriorPayload()))
    await settle()
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live' })
    // Live, but the gap is not stored yet: a replay now would not hold it.
    expect(relay.admit('bot', Bot)).toMatchObject(hold)
    expect([first.admissions, second.admissions]).toEqual([0, 0])
    release?.()
    await settle()
    await settle()
    expect(relay.admit('bot', Bot)).toBeUndefined()
    expect([first.admissions, second.admissions]).toEqual([1, 1])
    // The first joins; the second closes before it joined: the first holds the upstream open.
    relay.joined('bot', Bot, first)
    relay.unheld('bot', Bot, second, false)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', viewers: 1 })
    expect(timers.pending).toBe(0)
    // Told nothing: the upstream_live of the reopening went to viewers that had joined (none).
    expect([...first.told, ...second.told]).toEqual([])
    // `seen` again is dropped by core's dedupe; the gap is stored only, then what is news.
    expect(batches.map(eidsOf)).toEqual([['seen'], ['gap'], ['opening']])
    expect(live).toEqual([true, false, true])
    expect(sockets.sockets).toHaveLength(2)
    await relay.close()
  })

  it('refuses held viewers with upstream_failed and 4503 when the reopened upstream fails, and lets go of them', async () => {
    const { relay, sockets, timers } = setup()
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    await settle()
    relay.left('bot', Bot, viewer)
    timers.fire()
    const held = recordingViewer()
    relay.held('bot', Bot, held)
    await opened(sockets, 2)
    sockets.last().open().frame(joinFrames(identityPayload())).frame(joinFrames(invalidAuthPayload()))
    sockets.last().closeFromServer(4004, 'Invalid authentication, try again')
    await settle()
    expect(held.refused).toEqual([{ code: RelayControlCode.UpstreamFailed, closeCode: RelayCloseCode.UpstreamFailed, reason: RelayCloseInfo[4503].reason }])
    expect(held.admissions).toBe(0)
    // Its close, after the refusal, is nothing to the relay: only the retry timer is armed.
    relay.unheld('bot', Bot, held, false)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'failed', viewers: 0 })
    expect(timers.pending).toBe(1)
    await relay.close()
  })
})

describe('Relay publishing into a failing store', () => {
  it('retries a batch on its backoff with later batches behind it, and gives up after PublishRetry.giveUpMs, logged', async () => {
    const lines: string[] = []
    const { relay, sockets, timers, batches } = setup(
      async (requests) => {
        if (eidsOf(requests)?.includes('a')) throw new Error('store down')
      },
      { info: (line) => void lines.push(line), error: (line) => void lines.push(line) },
    )
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const socket = sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    socket.frame(joinFrames(viewAt('a', Date.now() / 1000)))
    await settle()
    socket.frame(joinFrames(viewAt('b', Date.now() / 1000)))
    await settle()
    for (let i = 0; i < 20 && !lines.some((l) => l.includes('giving up')); i++) {
      timers.fire()
      await settle()
    }
    const waits = lines.flatMap((l) => /retrying in (\d+) ms/.exec(l)?.slice(1).map(Number) ?? [])
    expect(waits).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000, 8000, 8000])
    expect(waits.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(PublishRetry.giveUpMs)
    expect(lines).toContain('storing 1 upstream events failed 12 times in 56 s, giving up: 1 lost, to be fetched again from the upstream: store down')
    await settle()
    expect(batches.map(eidsOf)).toEqual([...Array.from({ length: 12 }, () => ['a']), ['b']])
    await relay.close()
  })

  it('fetches again what the store gave up on: a fresh upstream client resumes from just before it, and it is relayed live as it was the first time', async () => {
    let down = true
    const lines: string[] = []
    const { relay, sockets, timers, batches, live } = setup(
      async (requests) => {
        if (down && eidsOf(requests)?.includes('a')) throw new Error('store down')
      },
      { info: (line) => void lines.push(line), error: (line) => void lines.push(line) },
    )
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    const now = Date.now() / 1000
    // The origin stamps positions: the fresh client asks for what followed the one before `a`.
    const at = (eid: string, ts: number, offset: number) => {
      const event = viewAt(eid, ts)
      return { ...event, dat: { ...event.dat, m: { ...event.dat.m, pos: `e1:${offset}` } } }
    }
    // The origin's clock is the one that stamps its events (a fresh client's mark is held
    // within a minute of the ready's `ts`).
    const handshake = (socket: FakeWebSocket): FakeWebSocket => socket.open().frame(joinFrames(identityPayload())).frame(joinFrames(readyPayload(undefined, { ts: now })))
    const first = handshake(sockets.last()).frame(joinFrames(donePriorPayload()))
    first.frame(joinFrames(at('before', now - 5, 1)))
    await settle()
    first.frame(joinFrames(at('a', now - 4, 2)))
    await settle()
    first.frame(joinFrames(at('b', now - 3, 3)))
    await settle()
    for (let i = 0; i < 20 && !lines.some((l) => l.includes('giving up')); i++) {
      timers.fire()
      await settle()
    }
    down = false
    await opened(sockets, 2)
    // The old client is closed; viewers hear why; a viewer identifying now is held, as its
    // replay would lack `a` until it is stored again.
    expect(first.closedByClient?.code).toBe(1000)
    expect(viewer.told.at(-1)).toMatch(/^upstream_connecting: The relay is reconnecting to its upstream to fetch again/)
    expect(relay.admit('bot', Bot)).toMatchObject({ holdMs: HoldMs })
    const second = handshake(sockets.last())
    const identify = JSON.parse(second.sent.find((text) => text.includes('"token"')) ?? '{}') as { after?: Record<string, string> }
    expect(identify.after).toEqual({ [`bot-${Bot}`]: 'e1:1' })
    second.frame(joinFrames(at('a', now - 4, 2), at('b', now - 3, 3), donePriorPayload()))
    await settle()
    await settle()
    await settle()
    // `a` went live, as it would have; `b` (stored already) is stored again as history, which
    // the store recognizes by eid. Then the target caught up: viewers are admitted again.
    const published = batches.map((batch, index) => `${eidsOf(batch)?.join(',')} ${live[index] === true ? 'live' : 'history'}`)
    expect(published).toEqual(['before live', ...Array.from({ length: 12 }, () => 'a live'), 'b live', 'b history', 'a live'])
    expect(relay.admit('bot', Bot)).toBeUndefined()
    // A reconnect to viewers, not an opening: its live says whether the gap was filled.
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', opened: 1 })
    expect(viewer.told.at(-1)).toBe(`upstream_live: ${LiveDetail.filled}`)
    expect(lines.some((l) => l.includes('lost, to be fetched again'))).toBe(true)
    await relay.close()
  })

  it('close ends a retry\'s wait: one last attempt, then the batch is given up, logged', async () => {
    const lines: string[] = []
    const { relay, sockets, timers, batches } = setup(
      async () => {
        throw new Error('store down')
      },
      { info: (line) => void lines.push(line), error: (line) => void lines.push(line) },
    )
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(viewAt('a', Date.now() / 1000)))
    await settle()
    expect(timers.pending).toBe(1)
    await relay.close()
    expect(timers.pending).toBe(0)
    expect(batches.map(eidsOf)).toEqual([['a'], ['a']])
    expect(lines.at(-1)).toBe('storing 1 upstream events failed as the relay closes, 1 lost: store down')
  })
})

describe('Relay.close', () => {
  it('closes the upstream and arms no grace timer for viewers leaving during shutdown', async () => {
    const { relay, sockets, timers } = setup()
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    sockets.last().handshake()
    await relay.close()
    expect(sockets.last().closedByClient?.code).toBe(1000)
    relay.left('bot', Bot, viewer)
    expect(timers.pending).toBe(0)
  })
})

describe('Relay fetching again what the store lost', () => {
  const Other = '811073947382579201'

  /**
   * As `setup`, with a store that is down (`store.down`) for batches holding any of `failing`
   * (all, when empty), and slow (until `store.release()`) for one holding `slow`; the eids each
   * successful publish stored, the log's lines, several bots, and core's options.
   */
  function lossSetup(failing: readonly string[], options: { down?: boolean; slow?: string; bots?: Credentials[]; connect?: Record<string, unknown> } = {}) {
    const sockets = fakeWebSockets()
    const timers = manualTimers()
    const stored: string[] = []
    const lines: string[] = []
    const store = { down: options.down ?? true, release: undefined as (() => void) | undefined }
    const relay = new Relay(
      { upstream: 'ws://origin.invalid/ws', bots: options.bots ?? [{ id: Bot, token: Token }], servers: [], graceMs: 1000, connect: { WebSocket: sockets.WebSocket, random: () => 0, ...options.connect } },
      {
        publish: async (requests) => {
          const eids = eidsOf(requests) ?? []
          if (store.down && (failing.length === 0 || eids.some((eid) => failing.includes(eid)))) throw new Error('store down')
          if (options.slow !== undefined && eids.includes(options.slow) && store.release === undefined) await new Promise<void>((resolve) => (store.release = resolve))
          stored.push(...eids)
          return requests.map(() => ({ eid: '', repeat: false }))
        },
        logger: { info: (l) => void lines.push(l), error: (l) => void lines.push(l) },
        timers,
      },
    )
    return { relay, sockets, timers, stored, lines, store }
  }

  async function openedWithin(sockets: { readonly sockets: readonly unknown[] }, n: number, ms: number): Promise<void> {
    const end = Date.now() + ms
    while (sockets.sockets.length < n) {
      if (Date.now() > end) throw new Error(`no socket ${n} opened within ${ms} ms`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }

  /** Fires the relay's timers (those armed for at most `upToMs`) until the store gave up `n` times in all. */
  async function untilGivenUp(lines: readonly string[], timers: ReturnType<typeof manualTimers>, n = 1, upToMs?: number): Promise<void> {
    const count = () => lines.filter((l) => l.includes('giving up')).length
    for (let i = 0; i < 40 && count() < n; i++) {
      timers.fire(upToMs)
      await settle()
    }
    expect(count()).toBe(n)
  }

  /**
   * Two relayed bots, each with a viewer (`a`, `b`) and a live upstream (`first`, `second`,
   * greeted by `greet`), over a store down for `g` while `store.down`.
   */
  async function twoTargets(greet: (socket: FakeWebSocket) => FakeWebSocket) {
    const bots = [{ id: Bot, token: Token }, { id: Other, token: 'other-secret' }]
    const setup = lossSetup(['g'], { down: false, bots })
    const { relay, sockets } = setup
    const a = recordingViewer()
    const b = recordingViewer()
    relay.joined('bot', Bot, a)
    await opened(sockets)
    relay.joined('bot', Other, b)
    await opened(sockets, 2)
    const [first, second] = sockets.sockets.map((socket) => greet(socket).frame(joinFrames(donePriorPayload())))
    await settle()
    return { ...setup, a, b, first: first as FakeWebSocket, second: second as FakeWebSocket }
  }

  /** A bot view on the target's channel with an origin position `e1:<offset>`. */
  const at = (eid: string, ts: number, offset?: number) => {
    const event = viewAt(eid, ts)
    return offset === undefined ? event : { ...event, dat: { ...event.dat, m: { ...event.dat.m, pos: `e1:${offset}` } } }
  }

  const identifyOf = (sent: readonly string[]) => JSON.parse(sent.find((text) => text.includes('"token"')) ?? '{}') as { after?: Record<string, string> }

  it('two batches given up while the upstream is closed: the reopened client still asks for what followed the one before the first lost event', async () => {
    const { relay, sockets, timers, lines, store } = lossSetup(['a', 'b'])
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    const now = Date.now() / 1000
    const first = sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    first.frame(joinFrames(at('before', now - 0.5, 1)))
    await settle()
    first.frame(joinFrames(at('a', now - 0.4, 2)))
    await settle()
    first.frame(joinFrames(at('b', now - 0.3, 3)))
    await settle()
    // The last viewer leaves: the grace timer closes the upstream at the first fire.
    relay.left('bot', Bot, viewer)
    await untilGivenUp(lines, timers, 2)
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle' })
    store.down = false
    relay.held('bot', Bot, recordingViewer())
    await opened(sockets, 2)
    const second = sockets.last().handshake()
    // `a` is e1:2: resuming after e1:2 skips it, and the origin calls the replay exact.
    expect(identifyOf(second.sent).after).toEqual({ [`bot-${Bot}`]: 'e1:1' })
    await relay.close()
  })

  it('replaces the client once for batches it delivered: a later give-up of what the old client delivered costs no second identify', async () => {
    const { relay, sockets, timers, lines, store } = lossSetup(['a', 'b'])
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const now = Date.now() / 1000
    const first = sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    first.frame(joinFrames(at('a', now - 0.4, 1)))
    await settle()
    first.frame(joinFrames(at('b', now - 0.3, 2)))
    await settle()
    await untilGivenUp(lines, timers)
    // `a` given up: a fresh client, resuming from before it (the channel's first event: by m.ts).
    await opened(sockets, 2)
    expect(identifyOf(sockets.last().handshake().sent).after).toBeUndefined()
    await untilGivenUp(lines, timers, 2)
    // `b`, which the old client delivered, is after where the fresh one resumed: it asks for
    // `b` too, and no third socket (an identify at the origin) is opened for it.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sockets.sockets).toHaveLength(2)
    store.down = false
    await relay.close()
  })

  it('gives a failed upstream its fresh client at the retry, which counts as a reconnect, not an opening', async () => {
    const { relay, sockets, timers, stored, lines, store } = lossSetup(['a'])
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const now = Date.now() / 1000
    sockets.last().handshake().frame(joinFrames(donePriorPayload())).frame(joinFrames(at('a', now - 0.4)))
    await settle()
    sockets.last().closeFromServer(4004, 'Invalid authentication, try again')
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'failed', opened: 1 })
    // The publish retries (up to 8 s) run out while the upstream's retry (a minute) waits.
    await untilGivenUp(lines, timers, 1, PublishRetry.maxMs)
    expect(sockets.sockets).toHaveLength(1)
    store.down = false
    timers.fire()
    await opened(sockets, 2)
    sockets.last().handshake().frame(joinFrames(at('a', now - 0.4), donePriorPayload()))
    for (let i = 0; i < 3; i++) await settle()
    expect(stored).toContain('a')
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live', opened: 1, retries: 1 })
    await relay.close()
  })

  it('lets held viewers in only once the fresh client\'s replay (the lost event) is stored', async () => {
    // The store is slow with the lost event fetched again.
    const { relay, sockets, timers, stored, lines, store } = lossSetup([], { down: false, slow: 'x' })
    const viewer = recordingViewer()
    relay.joined('bot', Bot, viewer)
    await opened(sockets)
    const now = Date.now() / 1000
    const first = sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    await settle()
    store.down = true
    first.frame(joinFrames(at('x', now - 0.5)))
    await settle()
    // The store stays down: the grace period closes the upstream meanwhile.
    relay.left('bot', Bot, viewer)
    timers.fire()
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'idle' })
    // A viewer comes back: held, the upstream reopens (same client) and replays the gap `g`.
    const held = recordingViewer()
    relay.held('bot', Bot, held)
    await opened(sockets, 2)
    sockets.last().handshake().frame(joinFrames(at('x', now - 0.5), at('g', now - 0.2), donePriorPayload()))
    await settle()
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live' })
    // `x` is given up: a fresh client fetches it again.
    await untilGivenUp(lines, timers)
    await opened(sockets, 3)
    sockets.last().handshake().frame(joinFrames(at('x', now - 0.5), at('g', now - 0.2), donePriorPayload()))
    await settle()
    await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live' })
    // The store is back: the gap `g` (queued before the give-up) is stored, then `x` again, slowly.
    store.down = false
    timers.fire()
    for (let i = 0; i < 5; i++) await settle()
    expect(store.release).toBeDefined()
    expect(stored).not.toContain('x')
    // `x` is not stored yet: a replay now lacks it, so the held viewer must still wait.
    expect(held.admissions).toBe(0)
    expect(relay.admit('bot', Bot)).toMatchObject({ holdMs: HoldMs })
    store.release?.()
    for (let i = 0; i < 5; i++) await settle()
    expect(stored).toContain('x')
    expect(held.admissions).toBe(1)
    await relay.close()
  })

  it('is fetched again though the target that first received it has closed its upstream, while another target\'s upstream (which received it too) is live', async () => {
    const { relay, sockets, timers, stored, lines, store, a, first, second } = await twoTargets((socket) => socket.handshake())
    store.down = true
    const reset = fatesEvent(EventName.VoteResetAll, {}, { eid: 'g', ts: Date.now() / 1000 })
    first?.frame(joinFrames(wrapEvent(reset, 'global')))
    second?.frame(joinFrames(wrapEvent(reset, 'global')))
    await settle()
    // The first target's viewer leaves; its grace period ends while the store is down.
    relay.left('bot', Bot, a)
    await untilGivenUp(lines, timers)
    store.down = false
    expect(relay.upstreams()[0]?.status).toBe('idle')
    expect(stored).not.toContain('g')
    // `g` is lost to every viewer of `Other` (live, and in replays) until some upstream fetches
    // it again: `Other`'s, which is open, or at least the first's, reopened.
    await openedWithin(sockets, 3, 1_000)
    sockets.last().handshake().frame(joinFrames(wrapEvent(reset, 'global'), donePriorPayload()))
    for (let i = 0; i < 5; i++) await settle()
    expect(stored).toContain('g')
    await relay.close()
  })

  it('still publishes a lost global event that comes after the cut (the lost map is not forgotten before it came)', async () => {
    // A replay cut short: the same as one past replayTimeoutMs (30 s) without done_prior.
    const { relay, sockets, timers, stored, lines, store } = lossSetup(['g'], { down: false, connect: { maxReplayHeld: 2 } })
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const now = Date.now() / 1000
    const first = sockets.last().handshake().frame(joinFrames(donePriorPayload()))
    await settle()
    store.down = true
    const reset = wrapEvent(fatesEvent(EventName.VoteResetAll, {}, { eid: 'g', ts: now }), 'global')
    first.frame(joinFrames(reset))
    await settle()
    await untilGivenUp(lines, timers)
    store.down = false
    await opened(sockets, 2)
    // The fresh client's replay: the origin's history first (send_all), cut after two held events.
    const second = sockets.last().handshake().frame(joinFrames(at('old-1', now - 60), at('old-2', now - 59)))
    for (let i = 0; i < 5; i++) await settle()
    expect(relay.upstreams()[0]).toMatchObject({ status: 'live' })
    second.frame(joinFrames(reset, donePriorPayload()))
    for (let i = 0; i < 5; i++) await settle()
    expect(stored).toContain('g')
    await relay.close()
  })

  /** A handshake whose `ready` carries the origin's clock as it is now (the fakes' default is 2023's). */
  const hello = <S extends { open(): S; frame(text: string): S }>(socket: S): S =>
    socket.open().frame(joinFrames(identityPayload())).frame(joinFrames(readyPayload(2, { ts: Date.now() / 1000 })))

  it('asks again for a later batch of another channel that the replaced client delivered: its fresh client did not resume before it there', async () => {
    const { relay, sockets, timers, stored, lines, store } = lossSetup(['g', 'b'])
    relay.joined('bot', Bot, recordingViewer())
    await opened(sockets)
    const now = Date.now() / 1000
    const globalAt = (eid: string, ts: number, offset: number) => {
      const event = wrapEvent(fatesEvent(EventName.VoteResetAll, {}, { eid, ts }), 'global')
      return { ...event, dat: { ...event.dat, m: { ...event.dat.m, pos: `e1:${offset}` } } }
    }
    const first = hello(sockets.last()).frame(joinFrames(donePriorPayload()))
    first.frame(joinFrames(at('before', now - 0.6, 1), globalAt('g0', now - 0.6, 4)))
    await settle()
    first.frame(joinFrames(globalAt('g', now - 0.5, 5)))
    await settle()
    first.frame(joinFrames(at('b', now - 0.4, 2)))
    await settle()
    // `before`/`g0` were stored; `g` (global e1:5) is given up first: a fresh client.
    await untilGivenUp(lines, timers)
    await opened(sockets, 2)
    hello(sockets.last())
    // Then `b` (bot e1:2), which the replaced client had delivered, is given up too.
    await untilGivenUp(lines, timers, 2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    store.down = false
    // An origin that stamps positions replays exactly what the newest identify asked for.
    const newest = sockets.last()
    if (newest.sent.length === 0) hello(newest)
    const after = identifyOf(newest.sent).after ?? {}
    const history = [at('before', now - 0.6, 1), globalAt('g0', now - 0.6, 4), globalAt('g', now - 0.5, 5), at('b', now - 0.4, 2)]
    const offset = (text: string | undefined) => (text === undefined ? 0 : Number(text.split(':')[1]))
    const replay = history.filter((event) => offset(event.dat.m.pos) > offset(after[event.chan as string]))
    newest.frame(joinFrames(...replay, donePriorPayload()))
    for (let i = 0; i < 5; i++) await settle()
    expect(stored).toContain('g')
    expect(stored).toContain('b')
    await relay.close()
  })

  it('stores a lost global event given up while no upstream was open when another target\'s reopened upstream brings it', async () => {
    const { relay, sockets, timers, stored, lines, store, a, b, first } = await twoTargets(hello)
    // `Other`'s viewer leaves; its grace period closes its upstream.
    relay.left('bot', Other, b)
    timers.fire()
    expect(relay.upstreams()[1]?.status).toBe('idle')
    // `g` is published: only the first target's upstream receives it, and the store is down.
    store.down = true
    const reset = wrapEvent(fatesEvent(EventName.VoteResetAll, {}, { eid: 'g', ts: Date.now() / 1000 }), 'global')
    first?.frame(joinFrames(reset))
    await settle()
    relay.left('bot', Bot, a)
    await untilGivenUp(lines, timers)
    expect(relay.upstreams().map((u) => u.status)).toEqual(['idle', 'idle'])
    store.down = false
    // A viewer of `Other` comes: its upstream reopens and the origin replays what it missed, `g` among it.
    relay.held('bot', Other, recordingViewer())
    await opened(sockets, 3)
    hello(sockets.last()).frame(joinFrames(reset, donePriorPayload()))
    for (let i = 0; i < 5; i++) await settle()
    expect(relay.upstreams()[1]?.status).toBe('live')
    expect(stored).toContain('g')
    await relay.close()
  })
})
