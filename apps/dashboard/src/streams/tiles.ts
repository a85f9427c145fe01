import { type EventStats, EventName, NoEventStats } from '@fates-rx/core'

/** The event groups the tiles and the chart show, as data. `other` is everything else. */
export const StatGroups = Object.freeze([
  { id: 'votes', label: 'Votes', events: [EventName.BotVote, EventName.ServerVote] },
  { id: 'views', label: 'Views', events: [EventName.BotView, EventName.ServerView] },
  { id: 'invites', label: 'Invites', events: [EventName.BotInvite, EventName.ServerInvite] },
] as const satisfies readonly { id: string; label: string; events: readonly number[] }[])

/** The id of a stat group. */
export type StatGroupId = (typeof StatGroups)[number]['id']

/** One stat tile, already in words. */
export interface TileView {
  readonly id: StatGroupId | 'users' | 'latest-vote' | 'events'
  readonly label: string
  /** The big number. */
  readonly value: string
  /** The line under it: a rate, or where the number came from. */
  readonly sub: string
}

const count = new Intl.NumberFormat('en-US')
const rate = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 })

/** The sum of a record's counts for some event names. */
const sum = (record: Readonly<Record<number, number>>, events: readonly number[]): number =>
  events.reduce((total, e) => total + (record[e] ?? 0), 0)

/** The tiles for one stats snapshot. */
export function tilesOf(stats: EventStats): readonly TileView[] {
  const groups = StatGroups.map(
    (group): TileView => ({
      id: group.id,
      label: group.label,
      value: count.format(sum(stats.totals, group.events)),
      sub: `${rate.format(sum(stats.perMinute, group.events))} / min`,
    }),
  )
  const latest = stats.latestVote
  return Object.freeze([
    ...groups,
    { id: 'users', label: 'Unique users', value: count.format(stats.uniqueUsers), sub: 'kept across reloads' },
    {
      id: 'latest-vote',
      label: 'Vote count',
      value: latest === null ? '–' : count.format(latest.votes),
      sub: latest === null ? 'no vote yet' : 'from the newest vote',
    },
    {
      id: 'events',
      label: 'All events',
      value: count.format(stats.total),
      sub: `${rate.format(stats.perMinuteTotal)} / min`,
    },
  ])
}

/** The tiles before any event: zeros, with their labels. */
export const zeroTiles: readonly TileView[] = tilesOf(NoEventStats)

/** The series of the rate chart, in uPlot's aligned layout: x (unix seconds), then one per group. */
export interface ChartData {
  /** Sample times in unix seconds. */
  readonly x: readonly number[]
  /** Events per minute, one array per {@link StatGroups} entry and a last one for all others. */
  readonly series: readonly (readonly number[])[]
}

/** Names of the chart's series, in the order of {@link ChartData.series}. */
export const chartSeriesLabels: readonly string[] = Object.freeze([...StatGroups.map((g) => g.label), 'Other'])

