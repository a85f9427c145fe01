import { eventFrame, type EncodedEvent } from '../wire/encode.js'
import type { Overflow } from './connection-machine.js'
import type { ProtocolSocket } from './socket.js'

/** Limits of one connection's writer (its outbox). */
export interface OutboxLimits {
  /** Stop handing frames to the socket while it buffers at least this many bytes. */
  readonly highWaterBytes: number
  /** Start a new frame once a batch of events reaches this many characters. */
  readonly maxFrameChars: number
  /**
   * Start a new frame once a batch holds this many events. The original's writer took one
   * event and appended only those waiting in its 256-slot queue: at most 257 per frame.
   * @default {@link OriginalMaxFrameEvents}
   */
  readonly maxFrameEvents?: number
  /** More queued events than this means the peer cannot keep up. */
  readonly maxQueuedEvents: number
  /**
   * More bytes than this queued for the peer (events and control payloads not yet handed to
   * the socket, plus what the socket still buffers) means it cannot keep up. Counting bytes,
   * not events, bounds what one slow reader can make the process hold however large the
   * events. @default unlimited (`startServer` always sets it)
   */
  readonly maxQueuedBytes?: number
}

/** A control payload in the queue: written alone in its frame. */
interface Control {
  readonly control: string
}

type Item = EncodedEvent | Control

/** The most events the original put in one frame: the one its writer took, plus its queue's 256 slots. */
export const OriginalMaxFrameEvents = 1 + 256

/**
 * One connection's writer, batching the way the original's did: a control payload alone in its
 * frame; events queued, and every event waiting when the writer runs goes into one frame
 * (`E1\x1f\x1fE2\x1f…`). The writer runs once per turn of the event loop (see `flushSoon`) and
 * pauses while the socket's buffer is above the high-water mark, so a slow reader gets fewer,
 * larger frames and the process never buffers more than one frame per connection beyond it.
 */
export class Outbox {
  #items: Item[] = []
  #head = 0
  #inFlight = 0
  #paused = false
  #queuedEvents = 0
  #queuedBytes = 0
  readonly #maxBytes: number
  readonly #maxFrameEvents: number

  constructor(
    private readonly socket: ProtocolSocket,
    private readonly limits: OutboxLimits,
    private readonly flushSoon: (outbox: Outbox) => void,
    private readonly overflow: (overflow: Overflow) => void,
  ) {
    this.#maxBytes = limits.maxQueuedBytes ?? Number.POSITIVE_INFINITY
    this.#maxFrameEvents = limits.maxFrameEvents ?? OriginalMaxFrameEvents
  }

  /** Events queued and not yet handed to the socket. */
  get queuedEvents(): number {
    return this.#queuedEvents
  }

  /** Bytes queued and not yet handed to the socket (UTF-8 lengths of the events' texts). */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** Queues a control payload. */
  control(text: string): void {
    this.#items.push({ control: text })
    this.#queuedBytes += text.length
    this.flushSoon(this)
  }

  /** Queues one serialized event (shared between connections: never copied). */
  event(event: EncodedEvent): void {
    this.#items.push(event)
    this.#queuedBytes += event.bytes
    if (++this.#queuedEvents > this.limits.maxQueuedEvents) return this.#overflow({ type: 'events', limit: this.limits.maxQueuedEvents })
    if (this.#queuedBytes + this.socket.bufferedAmount > this.#maxBytes) return this.#overflow({ type: 'bytes', limit: this.#maxBytes })
    this.flushSoon(this)
  }

  /** Queues events to go out together, in one frame where the limits allow. */
  events(events: readonly EncodedEvent[]): void {
    for (const event of events) {
      this.#items.push(event)
      this.#queuedBytes += event.bytes
    }
    this.#queuedEvents += events.length
    if (this.#queuedBytes + this.socket.bufferedAmount > this.#maxBytes) return this.#overflow({ type: 'bytes', limit: this.#maxBytes })
    this.flushSoon(this)
  }

  #overflow(overflow: Overflow): void {
    // Let go of the events at once: holding them is what the limit prevents. The control
    // payloads stay for the close that follows (`flushControlsOnly`): a `ready` queued in the
    // same turn as the replay that overflowed must still reach the client before it.
    const controls = this.#items.slice(this.#head).filter((item): item is Control => 'control' in item)
    this.#items = controls
    this.#head = 0
    this.#queuedEvents = 0
    this.#queuedBytes = controls.reduce((bytes, { control }) => bytes + control.length, 0)
    this.overflow(overflow)
  }

  /**
   * Before a close: writes the control payloads still queued (a `ready` not yet flushed must
   * precede the error that follows it), in order and ignoring backpressure, and drops the
   * queued events, which a closing connection no longer needs.
   */
  flushControlsOnly(): void {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as Item
      if ('control' in item) this.#write(item.control)
    }
    this.discard()
  }

  /** Forgets everything not yet handed to the socket. */
  discard(): void {
    this.#items = []
    this.#head = 0
    this.#queuedEvents = 0
    this.#queuedBytes = 0
  }

  /** Hands queued frames to the socket until the queue is empty or the socket is full. */
  flush(): void {
    const items = this.#items
    while (this.#head < items.length) {
      if (this.#inFlight > 0 && this.socket.bufferedAmount >= this.limits.highWaterBytes) {
        this.#paused = true
        // Drop what was written so a long backlog does not keep its sent prefix alive.
        if (this.#head > 1024) {
          this.#items = items.slice(this.#head)
          this.#head = 0
        }
        return
      }
      const first = items[this.#head++] as Item
      if ('control' in first) {
        this.#queuedBytes -= first.control.length
        this.#write(first.control)
        continue
      }
      let chars = first.text.length
      let last = this.#head
      const end = Math.min(items.length, this.#head - 1 + this.#maxFrameEvents)
      while (last < end && chars < this.limits.maxFrameChars) {
        const next = items[last] as Item
        if ('control' in next) break
        chars += next.text.length
        last++
      }
      if (last === this.#head) {
        this.#queuedEvents--
        this.#queuedBytes -= first.bytes
        this.#write(first.frame)
        continue
      }
      const batch = [first.text]
      let bytes = first.bytes
      for (; this.#head < last; this.#head++) {
        const next = items[this.#head] as EncodedEvent
        batch.push(next.text)
        bytes += next.bytes
      }
      this.#queuedEvents -= batch.length
      this.#queuedBytes -= bytes
      this.#write(eventFrame(batch))
    }
    this.#items = []
    this.#head = 0
    this.#queuedBytes = 0
  }

  #write(frame: string | Buffer): void {
    this.#inFlight++
    this.socket.send(frame, this.#written)
  }

  readonly #written = (): void => {
    this.#inFlight--
    if (this.#paused) {
      this.#paused = false
      this.flushSoon(this)
    }
  }
}
