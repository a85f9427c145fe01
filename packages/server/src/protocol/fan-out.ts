import { describe, type Logger } from '../log.js'
import type { EventsById, LiveEvent, Store, Unsubscribe } from '../stores/store.js'
import { encodeEvent, type EncodedEvent } from '../wire/encode.js'

/** What the fan-out needs of a connection: somewhere to put a live event. */
export interface ChannelMember {
  /** A live event on a channel the member joined, serialized once for all members. */
  live(eid: string, event: EncodedEvent): void
}

interface ChannelEntry {
  readonly members: Set<ChannelMember>
  readonly subscription: Promise<Unsubscribe>
}

/**
 * The local fan-out: one store subscription per channel however many connections want it, and
 * each live event serialized once and handed to every member of its channel.
 */
export class ChannelFanOut {
  readonly #store: Store
  readonly #logger: Logger
  readonly #channels = new Map<string, ChannelEntry>()

  constructor(store: Store, logger: Logger) {
    this.#store = store
    this.#logger = logger
  }

  /** Adds `member` to `channel`; resolves once the store delivers that channel's live events. */
  async join(channel: string, member: ChannelMember): Promise<void> {
    let entry = this.#channels.get(channel)
    if (entry === undefined) {
      // A listener of its own per subscription: were one shared listener passed, a leave and a
      // join in the same turn would share it, and the leave's unsubscribe would silently remove
      // the join's.
      // In runs where the store can (a batch's events at once, no object per event), else one
      // `{"<eid>": event}` message at a time.
      // Each subscription delivers to its own members only: the one a last leave ends runs
      // until its unsubscribe (a turn later at least), while a join in between opens the next;
      // through the channel's current entry, both would hand that join every event twice.
      const members = new Set<ChannelMember>()
      const subscription =
        this.#store.subscribeBatches !== undefined
          ? this.#store.subscribeBatches(channel, (from, events) => this.#deliverRun(members, from, events))
          : this.#store.subscribe(channel, (from, events) => this.#deliver(members, from, events))
      entry = { members, subscription }
      this.#channels.set(channel, entry)
      const created = entry
      subscription.catch(() => {
        if (this.#channels.get(channel) === created) this.#channels.delete(channel)
      })
    }
    entry.members.add(member)
    await entry.subscription
  }

  /** Removes `member` from `channel`; the last member out ends the store subscription. */
  leave(channel: string, member: ChannelMember): void {
    const entry = this.#channels.get(channel)
    if (entry === undefined || !entry.members.delete(member) || entry.members.size > 0) return
    this.#channels.delete(channel)
    entry.subscription
      .then((unsubscribe) => unsubscribe())
      .catch((error: unknown) => this.#logger.error(`unsubscribe ${channel}: ${describe(error)}`))
  }

  #deliverRun(members: ReadonlySet<ChannelMember>, channel: string, events: readonly LiveEvent[]): void {
    if (members.size === 0) return
    for (const { eid, event } of events) {
      const encoded = encodeEvent(channel, event)
      for (const member of members) member.live(eid, encoded)
    }
  }

  #deliver(members: ReadonlySet<ChannelMember>, channel: string, events: EventsById): void {
    if (members.size === 0) return
    for (const [eid, event] of Object.entries(events)) {
      const encoded = encodeEvent(channel, event)
      for (const member of members) member.live(eid, encoded)
    }
  }
}
