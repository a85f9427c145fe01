/**
 * Details the original sent that are not fixed texts of the shared protocol tables. Read by the
 * origin's connection machine and by the relay (which must refuse a viewer in the same words).
 */
export const ServerDetail = Object.freeze({
  /** `invalid_auth`: the original's database error for an unknown id or a wrong token. */
  noRows: 'no rows in result set',
})
