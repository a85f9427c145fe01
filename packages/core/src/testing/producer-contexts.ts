import { EventName } from '../protocol/events.js'

/**
 * What one field of a producer's `ctx` can hold, as it reached the wire. The original's events
 * all passed through its Go server, which decoded and re-encoded them with `encoding/json` into
 * `interface{}`: every number became a float64, so a whole float (`5.0`) arrives as `5` and a
 * snowflake the producer held as an int arrives as a JSON number, rounded to float64.
 */
export type ProducerKind =
  /** A snowflake as a decimal string (`str(user_id)` in Python, a `string` in Go); `"0"` included. */
  | 'snowflake'
  /** A snowflake the producer held as an int: a JSON number, possibly beyond `Number.MAX_SAFE_INTEGER`. */
  | 'snowflake-number'
  /** Any string: end-user text, or what Python's `str(None)` made (`"None"`). */
  | 'text'
  /** A UUID as a string. */
  | 'uuid'
  /** An array of UUID strings (possibly empty). */
  | 'uuids'
  /** An array of strings (possibly empty). */
  | 'texts'
  /** A whole number (a count, `len()` of an array, an int64 column). */
  | 'integer'
  /** Any finite number, fractional or whole (a float column or model field). */
  | 'float'
  /** `true` or `false`. */
  | 'boolean'
  /** `null`: a nullable column, an optional model field, or Python's `None` written as is. */
  | 'null'
  /** The key is not sent at all. */
  | 'absent'

/** One producer of the original: where it is, and the kinds each `ctx` field can take. */
export interface ProducerContext {
  /** The event number it sends (`m.e`). */
  readonly e: number
  /** The producer: a path in paul-brtd/FatesList and the function (or handler) in it. */
  readonly producer: string
  /** The commit of paul-brtd/FatesList the producer was read at (12 hex digits). */
  readonly commit: string
  /** Each `ctx` key it sends, with every kind it can take; the first is the usual one. */
  readonly fields: Readonly<Record<string, readonly ProducerKind[]>>
}

// The original's last commit (2021-12-05); its Go websocket server ran from 2bea362711a6
// (2021-11-22), and the producers' shapes did not change in that time. Older producers wrote the
// same stored map (`HSET <bot|server>-<id> ws`, `{m, ctx}` events) since d9fffd88b197
// (2021-06-08), which `send_all` replays: their shapes are rows too.
const Head = '7764481bd80c'

/**
 * Every `ctx` shape the original Fates List's producers could send, read from its source
 * (paul-brtd/FatesList): one row per producer and event number, each field with the kinds of
 * value it can take. `packages/core/src/codec/CONTEXTS.md` is the same audit with its
 * reasoning; the context codecs accept every combination here (a property test holds this).
 * Use it to test a handler against every real shape: {@link producerContextSamples} turns it
 * into concrete contexts.
 */
export const ProducerContexts: readonly ProducerContext[] = /* @__PURE__ */ Object.freeze(
  (
    [
      // Votes: the Go server since 2021-11-23 (b3ffc469); Python's helpers.py vote_bot before, same kinds.
      [EventName.BotVote, 'modules/infra/dragon/webserver/main.go: POST /api/dragon/users/vote', Head, { user: ['snowflake'], votes: ['integer'], test: ['boolean'] }],
      [EventName.BotVote, 'modules/core/helpers.py: vote_bot', 'c913b052e38d', { user: ['snowflake'], votes: ['integer'], test: ['boolean'] }],
      [EventName.ServerVote, 'modules/infra/dragon/serverlist/commands.go: the vote command', Head, { user: ['snowflake'], votes: ['integer'], test: ['boolean'] }],
      // Views: the session's user_id is an int (a string until 2021-06-14), absent for a visitor who is not logged in.
      [EventName.BotView, 'modules/core/renderers.py: render_bot', Head, { user: ['snowflake-number', 'null'], widget: ['boolean'] }],
      [EventName.BotView, 'modules/core/renderers.py: render_bot', 'd9fffd88b197', { user: ['snowflake', 'null'], widget: ['boolean'] }],
      [EventName.BotView, 'modules/discord/api/v2/widgets/widgets.py: get_widget', Head, { user: ['snowflake-number', 'null'], widget: ['boolean'] }],
      [EventName.ServerView, 'modules/discord/servers.py: guild_page', Head, { user: ['snowflake-number', 'null'], widget: ['boolean'] }],
      [EventName.ServerView, 'modules/discord/api/v2/widgets/widgets.py: get_widget', Head, { user: ['snowflake-number', 'null'], widget: ['boolean'] }],
      // Invites: str(user_id) is "0" for a visitor, "None" through the API.
      [EventName.BotInvite, 'modules/core/helpers.py: invite_bot', Head, { user: ['snowflake', 'text'], api: ['boolean'] }],
      [EventName.BotInvite, 'modules/core/classes/bot.py: Bot.invite', Head, { user: ['snowflake', 'text'], api: ['absent'] }],
      [EventName.BotAdd, 'modules/core/admin.py: BotActions.add_bot', Head, {}],
      [EventName.BotEdit, 'modules/core/admin.py: BotActions.edit_bot', Head, { user: ['snowflake'] }],
      // user_id is the path's int; new_owner is assigned int(...) after validation.
      [EventName.BotDelete, 'modules/discord/api/v2/users/users.py: delete_bot', Head, { user: ['snowflake-number'] }],
      [EventName.BotTransfer, 'modules/discord/api/v2/users/users.py: transfer_bot_ownership', Head, { user: ['snowflake-number'], new_owner: ['snowflake-number'] }],
      [
        EventName.BotTransfer,
        'modules/core/admin.py: BotListAdmin.transfer_bot',
        '14fa433e41e7',
        { user: ['snowflake'], old_owner: ['snowflake'], new_owner: ['snowflake'], reason: ['text', 'null'] },
      ],
      // Reviews: star_rating float4, review_text and reply boolean are nullable columns.
      [
        EventName.ReviewVote,
        'modules/discord/api/v2/reviews/reviews.py: vote_review_api',
        Head,
        {
          user: ['snowflake'],
          id: ['uuid'],
          star_rating: ['float', 'null'],
          reply: ['boolean', 'null'],
          review: ['text', 'null'],
          upvotes: ['integer'],
          downvotes: ['integer'],
          upvote: ['boolean'],
        },
      ],
      [
        EventName.ReviewAdd,
        'modules/discord/api/v2/reviews/reviews.py: new_review',
        Head,
        { user: ['snowflake'], reply: ['boolean', 'null'], id: ['uuid'], star_rating: ['float'], review: ['text'], root: ['null', 'uuid'] },
      ],
      [EventName.ReviewEdit, 'modules/discord/api/v2/reviews/reviews.py: edit_review', '7c6c48593f6e', { user: ['snowflake'], id: ['uuid'], star_rating: ['float'], review: ['text'] }],
      [
        EventName.ReviewEdit,
        'modules/discord/bot_actions.py: edit_review',
        '1d58e4f91f8c',
        { user: ['snowflake'], id: ['uuid'], star_rating: ['float'], review: ['text'], reply: ['boolean', 'null'] },
      ],
      [EventName.ReviewDelete, 'modules/discord/api/v2/reviews/reviews.py: delete_review', '7c6c48593f6e', { user: ['snowflake'], reply: ['boolean', 'null'], id: ['uuid'] }],
      [
        EventName.ReviewDelete,
        'modules/discord/api/v2/api_tomove.py: delete_review',
        '8927b7e5d507',
        { user: ['snowflake'], reply: ['boolean', 'null'], id: ['uuid'], star_rating: ['float', 'null'], review: ['text', 'null'] },
      ],
      // Resources and commands: a system action, so user is None.
      [EventName.ResourceAdd, 'modules/discord/api/v2/resources/resources.py: add_resources', Head, { user: ['null'], id: ['uuids'] }],
      [
        EventName.ResourceDelete,
        'modules/discord/api/v2/resources/resources.py: delete_resources',
        Head,
        { user: ['null'], ids: ['uuids'], names: ['texts'], nuke: ['boolean'] },
      ],
      [EventName.CommandAdd, 'modules/discord/api/v2/commands/commands.py: add_commands', Head, { user: ['null'], id: ['uuids'] }],
      [EventName.CommandAdd, 'modules/discord/api/v2/commands/commands.py: add_command', '3909facff6bd', { user: ['null'], id: ['uuid'] }],
      [
        EventName.CommandDelete,
        'modules/discord/api/v2/commands/commands.py: delete_commands',
        Head,
        { user: ['null'], ids: ['uuids'], names: ['texts'], nuke: ['boolean'] },
      ],
      [EventName.CommandDelete, 'modules/discord/api/v2/commands/commands.py: delete_command', '3909facff6bd', { user: ['null'], id: ['uuid'] }],
    ] as const
  ).map(([e, producer, commit, fields]) => Object.freeze({ e, producer, commit, fields: Object.freeze(fields) })),
)

// Concrete values of each kind, for fixtures: the first is the usual one.
const Samples: Readonly<Record<ProducerKind, readonly unknown[]>> = Object.freeze({
  snowflake: ['563808552288780322', '0'],
  // 563808552288780322 as the Go server re-encoded it: rounded to float64.
  'snowflake-number': [563808552288780300],
  text: ['Great bot! <b>5/5</b> & more', 'None', ''],
  uuid: ['9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21'],
  uuids: [['9a6c0e52-4f3a-4b8e-9d51-0c4b5e0f7a21', '3f2b1c9d-8e7a-4d6b-a5c4-b3a2918f7e6d'], []],
  texts: [['ping', 'help'], []],
  integer: [57, 0],
  float: [4.5, 5, 3.299999952316284],
  boolean: [false, true],
  null: [null],
  absent: [undefined],
})

/** One concrete `ctx` a producer could send: {@link ProducerContexts} made into values. */
export interface ProducerContextSample {
  /** The event number. */
  readonly e: number
  /** What this sample is: the producer, and the field and value that vary from the usual one. */
  readonly label: string
  /** The context, as the producer sent it. */
  readonly ctx: Readonly<Record<string, unknown>>
}

/**
 * Concrete contexts from {@link ProducerContexts}: for each producer, its usual context, and one
 * context per other value each field can take (every kind and sample: `reply: null`, a numeric
 * snowflake, an empty list…), the rest kept usual.
 *
 * @example
 * for (const { e, label, ctx } of producerContextSamples()) expect(handle({ m: { e }, ctx }), label).not.toThrow()
 */
export function producerContextSamples(): readonly ProducerContextSample[] {
  const samples: ProducerContextSample[] = []
  for (const row of ProducerContexts) {
    const usual: Record<string, unknown> = {}
    for (const [key, kinds] of Object.entries(row.fields)) {
      const value = Samples[kinds[0] as ProducerKind][0]
      if (value !== undefined) usual[key] = value
    }
    const at = `e ${row.e} from ${row.producer}`
    samples.push({ e: row.e, label: `${at}: usual`, ctx: usual })
    for (const [key, kinds] of Object.entries(row.fields)) {
      kinds.forEach((kind, k) => {
        Samples[kind].forEach((value, v) => {
          if (k === 0 && v === 0) return
          const ctx = { ...usual }
          if (value === undefined) delete ctx[key]
          else ctx[key] = value
          samples.push({ e: row.e, label: `${at}: ${key} ${kind}${value === undefined ? '' : ` ${JSON.stringify(value)}`}`, ctx })
        })
      })
    }
  }
  return samples
}

/** The concrete values {@link producerContextSamples} uses for a kind: the first is the usual one. */
export function samplesOfKind(kind: ProducerKind): readonly unknown[] {
  return Samples[kind]
}
