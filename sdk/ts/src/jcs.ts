// RFC 8785 (JSON Canonicalization Scheme) as helm receipts use it
// (docs/receipts.md §2), and the strict JSON reader a verifier needs.
//
// Receipts hold no floating-point numbers, so numbers here are integers only:
// a JavaScript `number` must be an integer of magnitude at most 2^53 (beyond
// that it is not exact), and a `bigint` may carry any 64-bit integer
// (-2^63 … 2^64 − 1), which is written exactly, as the gateway writes it.

/** A JSON value as receipts hold it: no floats; big integers as bigint. */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonValue[]
  | { [name: string]: JsonValue };

/** A value that has no canonical form, or text that is not strict JSON. */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** Containers nested deeper than this are refused (the gateway's limit). */
export const MAX_DEPTH = 64;

const SAFE_LIMIT = 2 ** 53;
const INT_MIN = -(2n ** 63n);
const INT_MAX = 2n ** 64n - 1n;
const BIG_SAFE_LIMIT = 2n ** 53n;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** True when `s` holds an unpaired UTF-16 surrogate (not valid Unicode). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
    return proto?.constructor?.name ?? 'object';
  }
  return typeof value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, depth: number, checkStrings: boolean): string {
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isInteger(value)) {
        throw new CanonicalJsonError('contains a floating-point number');
      }
      if (Math.abs(value) > SAFE_LIMIT) {
        throw new CanonicalJsonError(
          'integer beyond ±2^53 is not exact as a number (pass a bigint)');
      }
      return Object.is(value, -0) ? '0' : String(value);
    case 'bigint':
      if (value < INT_MIN || value > INT_MAX) {
        throw new CanonicalJsonError('integer out of the 64-bit range');
      }
      return value.toString();
    case 'string':
      if (checkStrings && hasLoneSurrogate(value)) {
        throw new CanonicalJsonError('string is not valid Unicode (lone surrogate)');
      }
      // For well-formed strings JSON.stringify is exactly RFC 8785 §3.2.2.2:
      // '"', '\\' and C0 controls escaped (short forms where they exist,
      // else \u00xx in lowercase), everything else as itself.
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) {
        throw new CanonicalJsonError(`JSON nesting deeper than ${MAX_DEPTH}`);
      }
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (const item of value as unknown[]) parts.push(write(item, depth + 1, checkStrings));
        return '[' + parts.join(',') + ']';
      }
      if (!isPlainObject(value)) {
        throw new CanonicalJsonError(`value of type ${typeName(value)} has no JSON form`);
      }
      const record = value as Record<string, unknown>;
      // §3.2.3: member names sorted by UTF-16 code units, which is exactly
      // what the default comparison of JavaScript strings does.
      const names = Object.keys(record).sort();
      const parts: string[] = [];
      for (const name of names) {
        if (checkStrings && hasLoneSurrogate(name)) {
          throw new CanonicalJsonError('string is not valid Unicode (lone surrogate)');
        }
        parts.push(JSON.stringify(name) + ':' + write(record[name], depth + 1, checkStrings));
      }
      return '{' + parts.join(',') + '}';
    }
    default:
      throw new CanonicalJsonError(`value of type ${typeName(value)} has no JSON form`);
  }
}

/**
 * The RFC 8785 canonical text of `value`: members sorted by UTF-16 code
 * units, no whitespace, strings escaped as JSON.stringify does, integers in
 * plain decimal. Throws CanonicalJsonError for a float, an integer `number`
 * beyond ±2^53, a bigint beyond the 64-bit range, a lone surrogate, nesting
 * deeper than 64, or anything that is not JSON (undefined, functions, class
 * instances such as Date or Map).
 */
export function canonicalize(value: unknown): string {
  return write(value, 0, true);
}

/** canonicalize(value), encoded as UTF-8: the bytes that are hashed or signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/**
 * canonicalize() without the lone-surrogate check, for callers that check
 * the finished text once (the verifier, which compares it with the line).
 * @internal
 */
export function canonicalizeUnchecked(value: unknown): string {
  return write(value, 0, false);
}

// ------------------------------------------------------------ strict reader --

/** Nesting at which the reader gives up (the canonical form allows 64). */
const PARSE_DEPTH_LIMIT = 512;

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new CanonicalJsonError(`not valid JSON: ${what} at offset ${this.pos}`);
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.object(depth + 1);
      case 0x5b: // [
        return this.array(depth + 1);
      case 0x22: // "
        return this.string();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(Number.isNaN(c) ? 'unexpected end' : 'expected a value');
    }
  }

  literal<T extends JsonValue>(word: string, result: T): T {
    if (!this.text.startsWith(word, this.pos)) this.fail('expected a value');
    this.pos += word.length;
    return result;
  }

  number(): number | bigint {
    const t = this.text;
    const start = this.pos;
    const digit = (): boolean => {
      const c = t.charCodeAt(this.pos);
      return c >= 0x30 && c <= 0x39;
    };
    if (t.charCodeAt(this.pos) === 0x2d) this.pos++;
    if (!digit()) this.fail('expected a digit');
    if (t.charCodeAt(this.pos) === 0x30) {
      this.pos++;
    } else {
      while (digit()) this.pos++;
    }
    const intEnd = this.pos;
    let isFloat = false;
    if (t.charCodeAt(this.pos) === 0x2e) { // .
      this.pos++;
      if (!digit()) this.fail('expected a digit after the decimal point');
      while (digit()) this.pos++;
      isFloat = true;
    }
    const e = t.charCodeAt(this.pos);
    if (e === 0x65 || e === 0x45) { // e E
      this.pos++;
      const sign = t.charCodeAt(this.pos);
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      if (!digit()) this.fail('expected a digit in the exponent');
      while (digit()) this.pos++;
      isFloat = true;
    }
    if (isFloat) throw new CanonicalJsonError('contains a floating-point number');
    const token = t.slice(start, intEnd);
    if (token.length <= 15) return Number(token); // below 10^15: exact as a double
    const big = BigInt(token);
    return big >= -BIG_SAFE_LIMIT && big <= BIG_SAFE_LIMIT ? Number(big) : big;
  }

  string(): string {
    const t = this.text;
    this.pos++; // opening quote
    let out = '';
    let run = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(run, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character in a string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += t.slice(run, this.pos);
      const esc = t.charCodeAt(this.pos + 1);
      switch (esc) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: { // u
          const hex = t.slice(this.pos + 2, this.pos + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail('invalid \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail('invalid escape');
      }
      this.pos += 2;
      run = this.pos;
    }
  }

  array(depth: number): JsonValue[] {
    if (depth > PARSE_DEPTH_LIMIT) this.fail(`nesting deeper than ${PARSE_DEPTH_LIMIT}`);
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
    }
  }

  object(depth: number): { [name: string]: JsonValue } {
    if (depth > PARSE_DEPTH_LIMIT) this.fail(`nesting deeper than ${PARSE_DEPTH_LIMIT}`);
    this.pos++; // {
    const pairs: [string, JsonValue][] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return {};
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('expected a member name');
      const name = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      pairs.push([name, this.value(depth)]);
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
    }
    // Duplicates are looked for once the object is complete (as Python's
    // object_pairs_hook does), so both verifiers name the same first problem.
    const out: { [name: string]: JsonValue } = {};
    for (const [name, value] of pairs) {
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        throw new CanonicalJsonError(`duplicate key "${name}"`);
      }
      // defineProperty: a member named "__proto__" is data, not a prototype.
      Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
    }
    return out;
  }
}

/**
 * Parses strict JSON: one value, no duplicate member names, no
 * floating-point numbers (a fraction or an exponent is refused), integers
 * beyond ±2^53 as bigint. Throws CanonicalJsonError.
 */
export function parseStrictJson(text: string): JsonValue {
  const reader = new Reader(text);
  const value = reader.value(0);
  reader.skipSpace();
  if (reader.pos !== text.length) reader.fail('extra data');
  return value;
}
