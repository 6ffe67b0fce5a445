import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CanonicalJsonError, canonicalBytes, canonicalize, parseStrictJson } from '../dist/index.js';

describe('canonicalize: member order', () => {
  it('sorts names by UTF-16 code units (RFC 8785 §3.2.3 example)', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      1: 'One',
      '\u{1F600}': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const text = canonicalize(value);
    // The order the RFC gives for this object (read from the text: a parsed
    // object would list the integer-like name "1" first).
    const names = [...text.matchAll(/"((?:[^"\\]|\\.)*)":"/g)].map((m) => JSON.parse(`"${m[1]}"`));
    assert.deepEqual(names, ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\u{1F600}', '\ufb33']);
    assert.equal(text,
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
      '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  it('puts a non-BMP name before U+FB33, although its UTF-8 bytes sort after', () => {
    const emoji = '\u{1F600}';
    const dalet = '\ufb33';
    // UTF-8 order would be the other way round: F0 9F 98 80 > EF AC B3.
    assert.ok(Buffer.compare(Buffer.from(emoji), Buffer.from(dalet)) > 0);
    assert.equal(canonicalize({ [dalet]: 1, [emoji]: 2 }), `{"${emoji}":2,"${dalet}":1}`);
    // The golden receipt's "note" member, as the C++ module wrote it.
    assert.equal(canonicalize({ '😀': 2, Z: 4, '\ufb33': 1, 'ö': 3 }), '{"Z":4,"ö":3,"😀":2,"\ufb33":1}');
  });

  it('sorts nested objects and keeps array order', () => {
    assert.equal(canonicalize({ b: [3, { z: 1, a: 2 }, 1], a: { d: null, c: true } }),
      '{"a":{"c":true,"d":null},"b":[3,{"a":2,"z":1},1]}');
    assert.equal(canonicalize({ aa: 1, a: 2, B: 3, '': 4 }), '{"":4,"B":3,"a":2,"aa":1}');
  });
});

describe('canonicalize: strings', () => {
  it('escapes as RFC 8785 §3.2.2.2 (its example)', () => {
    const parsed = parseStrictJson('"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"');
    assert.equal(canonicalize(parsed), '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
  });

  it('uses the short escapes, lowercase \\u00xx for other controls, nothing else escaped', () => {
    assert.equal(canonicalize('\b\t\n\f\r'), '"\\b\\t\\n\\f\\r"');
    assert.equal(canonicalize('\u0000\u0001\u001f'), '"\\u0000\\u0001\\u001f"');
    assert.equal(canonicalize('/ \u007f \u2028 \u2029 é 😀'), '"/ \u007f \u2028 \u2029 é 😀"');
    assert.equal(canonicalize('"\\'), '"\\"\\\\"');
  });

  it('encodes as UTF-8 bytes', () => {
    assert.deepEqual([...canonicalBytes({ 'é': '😀' })],
      [...Buffer.from('{"é":"😀"}', 'utf8')]);
  });

  it('refuses lone surrogates in values and names', () => {
    assert.throws(() => canonicalize('\ud800'), CanonicalJsonError);
    assert.throws(() => canonicalize({ '\udc00x': 1 }), CanonicalJsonError);
    assert.equal(canonicalize('\ud83d\ude00'), '"😀"');
  });
});

describe('canonicalize: numbers and other values', () => {
  it('writes integers in plain decimal, -0 as 0', () => {
    assert.equal(canonicalize([0, -0, 1, -1, 42, 1000000, -123456789]), '[0,0,1,-1,42,1000000,-123456789]');
    assert.equal(canonicalize(2 ** 53), '9007199254740992');
    assert.equal(canonicalize(-(2 ** 53)), '-9007199254740992');
  });

  it('writes 64-bit bigints exactly and refuses those beyond', () => {
    assert.equal(canonicalize(9007199254740993n), '9007199254740993');
    assert.equal(canonicalize(2n ** 64n - 1n), '18446744073709551615');
    assert.equal(canonicalize(-(2n ** 63n)), '-9223372036854775808');
    assert.throws(() => canonicalize(2n ** 64n), /64-bit/);
    assert.throws(() => canonicalize(-(2n ** 63n) - 1n), /64-bit/);
  });

  it('refuses floats and integer numbers beyond 2^53', () => {
    for (const v of [1.5, -0.25, 1e-7, NaN, Infinity, -Infinity]) {
      assert.throws(() => canonicalize({ v }), /floating-point/, String(v));
    }
    assert.throws(() => canonicalize(2 ** 53 + 2), /2\^53/);
    assert.throws(() => canonicalize(1e21), /2\^53/);
  });

  it('writes literals and refuses what JSON has no form for', () => {
    assert.equal(canonicalize([true, false, null]), '[true,false,null]');
    assert.equal(canonicalize({}), '{}');
    assert.equal(canonicalize([]), '[]');
    for (const v of [undefined, { a: undefined }, () => 1, Symbol('s'), new Date(0), new Map(), [undefined]]) {
      assert.throws(() => canonicalize(v), CanonicalJsonError);
    }
    assert.equal(canonicalize(Object.assign(Object.create(null), { b: 1, a: 2 })), '{"a":2,"b":1}');
  });

  it('allows 64 levels of nesting and no more', () => {
    let ok = 0;
    for (let i = 0; i < 64; i++) ok = [ok];
    assert.equal(canonicalize(ok), '['.repeat(64) + '0' + ']'.repeat(64));
    assert.throws(() => canonicalize([ok]), /nesting/);
  });
});

describe('parseStrictJson', () => {
  it('round-trips a canonical text', () => {
    const text = '{"a":[1,-2,"x\\n",{"b":null}],"c":true,"d":9007199254740992}';
    assert.equal(canonicalize(parseStrictJson(text)), text);
  });

  it('keeps integers beyond 2^53 exact as bigint', () => {
    const v = parseStrictJson('{"big":9007199254740993,"neg":-9007199254740993,"max":9007199254740992,"small":123}');
    assert.equal(v.big, 9007199254740993n);
    assert.equal(v.neg, -9007199254740993n);
    assert.equal(v.max, 9007199254740992);
    assert.equal(v.small, 123);
    assert.equal(canonicalize(v), '{"big":9007199254740993,"max":9007199254740992,"neg":-9007199254740993,"small":123}');
  });

  it('refuses floats, duplicate names and malformed JSON', () => {
    assert.throws(() => parseStrictJson('{"a":1.0}'), /floating-point/);
    assert.throws(() => parseStrictJson('[1e3]'), /floating-point/);
    assert.throws(() => parseStrictJson('{"a":1,"a":1}'), /duplicate key "a"/);
    for (const bad of ['', '{', '{"a":1,}', '[1,]', '01', '"\u0001"', '"\\x"', 'NaN', '{"a" 1}', '1 2', "{'a':1}"]) {
      assert.throws(() => parseStrictJson(bad), CanonicalJsonError, JSON.stringify(bad));
    }
  });

  it('reads a member named __proto__ as data', () => {
    const v = parseStrictJson('{"__proto__":{"x":1}}');
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal(canonicalize(v), '{"__proto__":{"x":1}}');
  });
});
