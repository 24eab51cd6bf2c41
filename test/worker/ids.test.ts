// Id parsing against slingshot's `std::str::from_utf8(&data)?.trim().parse::<u64>()`
// (SPECS.md §1.5). Rust's str::trim strips exactly the Unicode White_Space property; the
// table below is that property (PropList.txt, unchanged since Unicode 6.3), and each
// entry is tried before, after and around an id. U+FEFF is not White_Space: Rust keeps it,
// so slingshot's parse fails and the message is refused (issue 13, issue 17 #13).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseId, toId, rustTrim } from '../../src/models/worker/ids.js';

/** Unicode White_Space (PropList.txt): what Rust's char::is_whitespace and str::trim use. */
const WHITE_SPACE: ReadonlyArray<[number, string]> = [
  [0x0009, 'CHARACTER TABULATION'], [0x000a, 'LINE FEED'], [0x000b, 'LINE TABULATION'],
  [0x000c, 'FORM FEED'], [0x000d, 'CARRIAGE RETURN'], [0x0020, 'SPACE'],
  [0x0085, 'NEXT LINE'], [0x00a0, 'NO-BREAK SPACE'], [0x1680, 'OGHAM SPACE MARK'],
  ...Array.from({ length: 11 }, (_, i): [number, string] => [0x2000 + i, `EN QUAD..HAIR SPACE (${i})`]),
  [0x2028, 'LINE SEPARATOR'], [0x2029, 'PARAGRAPH SEPARATOR'], [0x202f, 'NARROW NO-BREAK SPACE'],
  [0x205f, 'MEDIUM MATHEMATICAL SPACE'], [0x3000, 'IDEOGRAPHIC SPACE'],
];

/** Not White_Space, though some runtimes (JavaScript, Python) strip some of them. */
const NOT_WHITE_SPACE: ReadonlyArray<[number, string]> = [
  [0xfeff, 'ZERO WIDTH NO-BREAK SPACE (BOM): String.prototype.trim strips it, Rust does not'],
  [0x180e, 'MONGOLIAN VOWEL SEPARATOR (White_Space before Unicode 6.3)'],
  [0x200b, 'ZERO WIDTH SPACE'], [0x200c, 'ZERO WIDTH NON-JOINER'], [0x2060, 'WORD JOINER'],
  [0x001c, 'FILE SEPARATOR (Python isspace)'], [0x001f, 'UNIT SEPARATOR (Python isspace)'],
  [0x0000, 'NULL'],
];

const body = (text: string) => Buffer.from(text, 'utf8');
const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

describe('ids: trimmed exactly as Rust str::trim', () => {
  it('the table is the White_Space property of this runtime\'s Unicode data', () => {
    const fromTable = new Set(WHITE_SPACE.map(([cp]) => cp));
    const fromRegex: number[] = [];
    for (let cp = 0; cp <= 0xffff; cp++) if (/\p{White_Space}/u.test(String.fromCharCode(cp))) fromRegex.push(cp);
    assert.deepEqual(fromRegex, [...fromTable].sort((a, b) => a - b));
  });

  for (const [cp, name] of WHITE_SPACE) {
    it(`${hex(cp)} ${name} around an id is trimmed`, () => {
      const c = String.fromCodePoint(cp);
      for (const text of [`${c}42`, `42${c}`, `${c}${c}42${c}`]) assert.equal(parseId(body(text)), 42n, JSON.stringify(text));
      assert.equal(rustTrim(`${c}7${c}`), '7');
      assert.equal(toId(`${c}7${c}`), 7n);
    });
  }

  for (const [cp, name] of NOT_WHITE_SPACE) {
    it(`${hex(cp)} ${name} is not trimmed, so the id is refused`, () => {
      const c = String.fromCodePoint(cp);
      for (const text of [`${c}42`, `42${c}`]) {
        assert.throws(() => parseId(body(text)), (err: Error & { code?: string }) => err.code === 'SY_ERR_BAD_ID', JSON.stringify(text));
      }
      assert.throws(() => toId(`${c}7`), /SY_ERR_BAD_RESULT/);
    });
  }

  it('a leading byte-order mark is refused with a message that names it', () => {
    assert.throws(() => parseId(Uint8Array.from([0xef, 0xbb, 0xbf, 0x34, 0x32])), /byte-order mark \(U\+FEFF\)/);
  });

  it('an invisible character in a refused id is shown escaped in the reason', () => {
    assert.throws(() => parseId(body('4\u200B2')), /"4\\u200B2" is not a non-negative decimal integer/);
  });

  it('White_Space inside the digits is not trimmed', () => {
    assert.throws(() => parseId(body('4\u00852')), /SY_ERR_BAD_ID/);
  });
});
