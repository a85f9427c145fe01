import { randomUUID } from 'node:crypto'
import { EventName } from '@fates-rx/core/protocol'
import type { IdentityKind } from './identify/parse.js'
import { channelOf, type Credentials } from './stores/store.js'

/**
 * The identity the demo serves when none is configured. Public on purpose: it guards nothing
 * but generated traffic. Never reuse it for real data.
 */
export const DEMO_BOT: Credentials = Object.freeze({
  id: '811073947382579200',
  token: 'fates-rx-demo-token',
})

/** Where demo events go. */
export interface DemoTarget {
  readonly kind: IdentityKind
  readonly id: string
}

/** How often each kind of event occurs, relative to the others. */
export const DemoMix = Object.freeze({
  view: 70,
  invite: 20,
  vote: 8,
  review: 2,
} as const satisfies Record<string, number>)

type DemoKind = keyof typeof DemoMix

const EventNumbers: Readonly<Record<IdentityKind, Readonly<Record<Exclude<DemoKind, 'review'>, number>>>> = {
  bot: { view: EventName.BotView, invite: EventName.BotInvite, vote: EventName.BotVote },
  server: { view: EventName.ServerView, invite: EventName.ServerInvite, vote: EventName.ServerVote },
}

// User text: the dashboard must render it as text, so one carries markup on purpose.
const Reviews = Object.freeze([
  'Great bot, the music never stutters.',
  'Works well, but the prefix is hard to remember.',
  'Support answered in five minutes. 10/10',
  '<b>bold</b> claims & <script>alert("no")</script> should stay text',
  'Could use slash commands for everything.',
  'Été parfait — merci ! 🎉',
])

/** A source of numbers in [0, 1). */
export type Random = () => number

/**
 * Makes one plausible event for `target`: views far more often than invites, invites more
 * often than votes (each vote carrying the target's rising count), now and then a review.
 */
export function demoEvent(
  target: DemoTarget,
  votes: number,
  random: Random,
  nowMs: number,
): { readonly event: { m: Record<string, unknown>; ctx: Record<string, unknown> }; readonly kind: DemoKind } {
  const total = Object.values(DemoMix).reduce((a, b) => a + b, 0)
  let pick = random() * total
  let kind: DemoKind = 'view'
  for (const [name, weight] of Object.entries(DemoMix) as [DemoKind, number][]) {
    if (pick < weight) {
      kind = name
      break
    }
    pick -= weight
  }
  // A plausible snowflake: 18 digits from a small pool, so the same users come back.
  const user = String(563808552288780000n + BigInt(Math.floor(random() * 300)))
  const m = { eid: randomUUID(), ts: nowMs / 1000, t: -1, id: target.id }
  switch (kind) {
    case 'view':
      return { kind, event: { m: { ...m, e: EventNumbers[target.kind].view }, ctx: { user, widget: random() < 0.1 } } }
    case 'invite':
      return { kind, event: { m: { ...m, e: EventNumbers[target.kind].invite }, ctx: { user, api: random() < 0.05 } } }
    case 'vote':
      return { kind, event: { m: { ...m, e: EventNumbers[target.kind].vote }, ctx: { user, votes, test: false } } }
    case 'review':
      return {
        kind,
        event: {
          m: { ...m, e: EventName.ReviewAdd },
          ctx: {
            user,
            id: randomUUID(),
            star_rating: 1 + Math.floor(random() * 9) / 2,
            reply: false,
            review: Reviews[Math.floor(random() * Reviews.length)] ?? '',
          },
        },
      }
  }
}

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Events per second, over all targets. @default 5 */
  readonly rate?: number
  /** The random source. @default Math.random */
  readonly random?: Random
}

/** Ticks per second of the generator; each tick publishes its share of the rate. */
const TicksPerSecond = 20

/**
 * The highest demo rate (events per second): each tick publishes its share at once, so a rate of
 * 1e9 would block the event loop and fill the memory with publishes.
 */
export const MaxDemoRate = 10_000

/**
 * Publishes demo traffic to `targets` until stopped. Publish failures are reported to
 * `onError` and do not stop the generator.
 */
export function startDemo(
  publish: (channel: string, event: unknown) => Promise<unknown>,
  targets: readonly DemoTarget[],
  options: DemoOptions,
  onError: (error: unknown) => void,
): () => void {
  const { rate = 5, random = Math.random } = options
  if (!(Number.isFinite(rate) && rate > 0 && rate <= MaxDemoRate)) throw new RangeError(`demo rate must be a number > 0 and ≤ ${MaxDemoRate}, got ${rate}`)
  if (targets.length === 0) throw new RangeError('demo needs at least one bot or server')
  const votes = new Map<string, number>(targets.map((t) => [channelOf(t.kind, t.id), 40 + Math.floor(random() * 60)]))
  let owed = 0
  const timer = setInterval(() => {
    owed += rate / TicksPerSecond
    for (; owed >= 1; owed--) {
      const target = targets[Math.floor(random() * targets.length)] as DemoTarget
      const channel = channelOf(target.kind, target.id)
      const count = votes.get(channel) ?? 0
      const { event, kind } = demoEvent(target, count + 1, random, Date.now())
      if (kind === 'vote') votes.set(channel, count + 1)
      publish(channel, event).catch(onError)
    }
  }, 1000 / TicksPerSecond)
  return () => clearInterval(timer)
}
