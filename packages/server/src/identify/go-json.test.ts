import { describe, expect, it } from 'vitest'
import { goQuote, goQuoteByte, goSyntaxError } from './go-json.js'

describe('goSyntaxError', () => {
  // Texts as Go's encoding/json words them (the first three are in the recordings, e.json).
  it.each([
    ['{not json', "invalid character 'n' looking for beginning of object key string"],
    ['hello', "invalid character 'h' looking for beginning of value"],
    ['', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"id" 1}', "invalid character '1' after object key"],
    ['{"id":1 "x":2}', `invalid character '"' after object key:value pair`],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{} x', "invalid character 'x' after top-level value"],
    ['01', "invalid character '1' after top-level value"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    // Go's eof() steps one space through the state it ends in: inside a token, that is the error.
    ['nul', "invalid character ' ' in literal null (expecting 'l')"],
    ['fals3', "invalid character '3' in literal false (expecting 'e')"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ["'", "invalid character '\\'' looking for beginning of value"],
  ])('%j → %s', (input, expected) => {
    expect(goSyntaxError(input)).toBe(expected)
  })

  it.each(['{}', ' {"id":"1","token":"t","bot":true} ', '[1,-2.5e+3,"\\u00e9",null,true,false]', '"x"', '0'])(
    'accepts valid JSON %j',
    (input) => {
      expect(goSyntaxError(input)).toBeUndefined()
    },
  )
})

describe('goSyntaxError on raw bytes', () => {
  it.each([
    [[0xff, 0x7b], "invalid character 'ÿ' looking for beginning of value"],
    [[0x7b, 0x80], "invalid character '\\u0080' looking for beginning of object key string"],
    [[0x22, 0xff, 0x22], undefined],
  ])('%j → %s', (bytes, expected) => {
    expect(goSyntaxError(Uint8Array.from(bytes))).toBe(expected)
  })
})

describe('goQuoteByte', () => {
  it.each([
    [0x61, "'a'"],
    [0x27, "'\\''"],
    [0x22, `'"'`],
    [0x0a, "'\\n'"],
    [0x00, "'\\x00'"],
    [0x7f, "'\\x7f'"],
    [0x85, "'\\u0085'"],
    [0xff, "'ÿ'"],
  ])('quotes byte %i as %s', (byte, expected) => {
    expect(goQuoteByte(byte)).toBe(expected)
  })
})

describe('goQuote', () => {
  it.each([
    ['plain é', '"plain é"'],
    ['"\\', '"\\"\\\\"'],
    ['\u0007\u000b\t\n\r\b\f', '"\\a\\v\\t\\n\\r\\b\\f"'],
    ['\u0000\u007f', '"\\x00\\x7f"'],
    ['\u00a0\u2028', '"\\u00a0\\u2028"'],
    ['\u{10fffe}', '"\\U0010fffe"'],
    ['a\ud800', '"a\ufffd"'],
  ])('%j → %s, as strconv.Quote writes it', (text, quoted) => {
    expect(goQuote(text)).toBe(quoted)
  })
})
