// fast-check arbitraries of the contexts the original's producers sent, from the audit's data
// (ProducerContexts): core's codec properties and the server's publish property share them.
import fc from 'fast-check'
import type { ProducerContext, ProducerKind } from '../testing/producer-contexts.js'

// The original's strings went through orjson and Go's encoding/json: well-formed Unicode, so
// no lone surrogates. "None" is what str(None) made of a missing user.
const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constant('None'))

/** Values of one kind, as they reached the wire. `absent` has none (the key is left out). */
export const kindArbitraries: Readonly<Record<Exclude<ProducerKind, 'absent'>, fc.Arbitrary<unknown>>> = {
  snowflake: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
  // An int the Go server decoded into a float64: Number() rounds to the nearest double as Go did.
  'snowflake-number': fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }).map(Number),
  text,
  uuid: fc.uuid(),
  uuids: fc.array(fc.uuid(), { maxLength: 4 }),
  texts: fc.array(text, { maxLength: 4 }),
  integer: fc.maxSafeNat(),
  float: fc.double({ noNaN: true, noDefaultInfinity: true }),
  boolean: fc.boolean(),
  null: fc.constant(null),
}

/** Every ctx key any producer or context codec names: extras must not collide with them. */
const namedKeys = new Set(['user', 'votes', 'test', 'widget', 'api', 'id', 'ids', 'names', 'nuke', 'new_owner', 'star_rating', 'reply', 'review', 'upvotes', 'downvotes', 'upvote', 'root', 'old_owner', 'reason'])

/** Keys no producer or codec names, with any JSON: what a later producer might add. */
export const extraFields: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.string().filter((key) => !namedKeys.has(key) && key !== '__proto__'),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 3 },
)

/** Contexts `row`'s producer could send: each field any of its kinds, left out when `absent` is one. */
export function producerContext(row: ProducerContext): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  const required: string[] = []
  for (const [key, kinds] of Object.entries(row.fields)) {
    const present = kinds.filter((kind): kind is Exclude<ProducerKind, 'absent'> => kind !== 'absent')
    if (present.length === 0) continue
    model[key] = fc.oneof(...present.map((kind) => kindArbitraries[kind]))
    if (present.length === kinds.length) required.push(key)
  }
  return fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>
}

/** A producer row, a context it could send, and extra fields beside it. */
export function producerEvent(rows: readonly ProducerContext[]): fc.Arbitrary<{ e: number; producer: string; ctx: Record<string, unknown> }> {
  return fc
    .constantFrom(...rows)
    .chain((row) =>
      fc.tuple(producerContext(row), extraFields).map(([fields, extras]) => ({ e: row.e, producer: row.producer, ctx: { ...extras, ...fields } })),
    )
}
