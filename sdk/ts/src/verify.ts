// Offline verification of a helm receipt export (helm.receipt.v1), written
// from docs/receipts.md §7 with the same checks, report and exit codes as
// sdk/python/helm_verify.py and `helm receipts verify`.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';

import {
  CanonicalJsonError,
  canonicalizeUnchecked,
  hasLoneSurrogate,
  parseStrictJson,
  type JsonValue,
} from './jcs.js';

export const RECEIPT_VERSION = 'helm.receipt.v1';
export const GENESIS_PREV_HASH = 'sha256:' + '0'.repeat(64);

/** Exit codes of the verifiers (`helm receipts verify`, helm_verify.py, this CLI). */
export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_TAMPERED = 3;
export const EXIT_UNTRUSTED = 4;

export type BrokenCheck =
  | ''
  | 'format'
  | 'signature'
  | 'seq'
  | 'prev_hash'
  | 'ledger_id'
  | 'checkpoint'
  | 'truncated';

/** The verification report; member names as in helm_verify.py and the gateway. */
export interface VerifyReport {
  receipts: number;
  checkpoints: number;
  head_seq: number;
  head_hash: string;
  integrity_ok: boolean;
  first_broken_seq: number;
  first_broken_check: BrokenCheck;
  first_broken_detail: string;
  trust_ok: boolean;
  first_untrusted_seq: number;
  untrusted_key_id: string;
  decisions_without_outcome: string[];
}

export type Line = string | Uint8Array;

export interface VerifyOptions {
  /** Trusted Ed25519 public keys: 64 hex characters (`signing.pub`) or 32 raw bytes. */
  trustedKeys: ReadonlyArray<string | Uint8Array>;
  /**
   * Checkpoint receipts kept from earlier exports (each one export line,
   * with or without its newline): detect truncation and rewritten history.
   */
  trustedCheckpoints?: ReadonlyArray<Line>;
}

/** Input the verifier cannot use at all: a bad key, an unusable checkpoint (exit 2). */
export class VerifyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyInputError';
  }
}

/** The exit code a report calls for: 3 integrity failure (wins), 4 untrusted signer, else 0. */
export function exitCodeOf(report: VerifyReport): number {
  if (!report.integrity_ok) return EXIT_TAMPERED;
  if (!report.trust_ok) return EXIT_UNTRUSTED;
  return EXIT_OK;
}

/** The report as helm_verify.py prints it: members sorted, two-space indent. */
export function formatReport(report: VerifyReport): string {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(report).sort()) {
    sorted[name] = report[name as keyof VerifyReport];
  }
  return JSON.stringify(sorted, null, 2);
}

// ------------------------------------------------------------------ bytes --

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bytesOf(line: Line): Uint8Array {
  return typeof line === 'string' ? encoder.encode(line) : line;
}

function sha256Tagged(data: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/**
 * Export lines: '\n'-separated, the final '\n' optional. Nothing else (no
 * '\r') is stripped: a stored line must match its canonical bytes.
 */
export function splitLines(data: string | Uint8Array): Uint8Array[] {
  const bytes = bytesOf(data);
  const lines: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(bytes.subarray(start, nl));
    start = nl + 1;
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

type Receipt = { [name: string]: JsonValue };

class FormatError extends Error {}

function isObject(v: JsonValue | undefined): v is Receipt {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one stored receipt; it must be exactly its own RFC 8785 form. */
function parseStored(line: Uint8Array): Receipt {
  let text: string;
  let value: JsonValue;
  try {
    text = utf8.decode(line);
  } catch {
    throw new FormatError('not valid JSON: not valid UTF-8');
  }
  try {
    value = parseStrictJson(text);
  } catch (e) {
    if (e instanceof CanonicalJsonError) throw new FormatError(e.message);
    throw new FormatError(`not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new FormatError('not a JSON object');
  let canonical: string;
  try {
    canonical = canonicalizeUnchecked(value);
  } catch (e) {
    throw new FormatError((e as Error).message);
  }
  if (hasLoneSurrogate(canonical)) {
    throw new FormatError('string is not valid Unicode (lone surrogate)');
  }
  // The decoding was exact (fatal), so equal text means equal bytes.
  if (canonical !== text) throw new FormatError('not in canonical (RFC 8785) form');
  return value;
}

// -------------------------------------------------------------- signature --

const HEX64 = /^[0-9a-f]{64}$/;
const B64URL_SIG = /^[A-Za-z0-9_-]{86}$/;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// libsodium's rules (docs/receipts.md §3), on top of what OpenSSL checks:
// S below the group order L; R and the public key not of small order; the
// public key a canonical encoding (y < p).
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;
// The y coordinates of the points of order 1, 2, 4 and 8, and the
// non-canonical encodings of 0 and 1 (p, p + 1), compared without the sign bit.
const ORDER8_Y = 2707385501144840649318225287225658788936804267575313519463743609750303402022n;
const SMALL_ORDER_Y = [0n, 1n, ORDER8_Y, P - ORDER8_Y, P - 1n, P, P + 1n];

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] ?? 0);
  return n;
}

function yOf(point: Uint8Array): bigint {
  const copy = Uint8Array.from(point);
  copy[31] = (copy[31] ?? 0) & 0x7f;
  return littleEndian(copy);
}

function hasSmallOrder(point: Uint8Array): boolean {
  const y = yOf(point);
  return SMALL_ORDER_Y.includes(y);
}

const keyCache = new Map<string, KeyObject | null>();

function publicKeyObject(hex: string): KeyObject | null {
  let key = keyCache.get(hex);
  if (key === undefined) {
    try {
      key = createPublicKey({
        key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(hex, 'hex')]),
        format: 'der',
        type: 'spki',
      });
    } catch {
      key = null; // not a point on the curve
    }
    if (keyCache.size > 64) keyCache.clear();
    keyCache.set(hex, key);
  }
  return key;
}

/** RFC 8032 verification with libsodium's strict refusals. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32);
  if (littleEndian(s) >= L) return false;
  if (hasSmallOrder(r)) return false;
  if (yOf(publicKey) >= P || hasSmallOrder(publicKey)) return false;
  const key = publicKeyObject(Buffer.from(publicKey).toString('hex'));
  if (key === null) return false;
  try {
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

/** The signer's public key (hex), after checking alg and key_id. */
function signerKey(receipt: Receipt): string {
  const signer = receipt['signer'];
  if (!isObject(signer)) throw new Error('signer: missing');
  if (signer['alg'] !== 'ed25519') throw new Error('signer: alg is not ed25519');
  const hex = signer['public_key'];
  if (typeof hex !== 'string' || !HEX64.test(hex)) {
    throw new Error('signer: public_key is not 64 lowercase hex characters');
  }
  if (signer['key_id'] !== keyIdOf(Buffer.from(hex, 'hex'))) {
    throw new Error('signer: key_id does not match public_key');
  }
  return hex;
}

/** Verifies the Ed25519 signature with the embedded key; returns that key (hex). */
function checkSignature(receipt: Receipt): string {
  const hex = signerKey(receipt);
  const sigText = receipt['signature'];
  const badEncoding = 'signature: not 64 bytes of unpadded base64url';
  if (typeof sigText !== 'string' || !B64URL_SIG.test(sigText)) throw new Error(badEncoding);
  const sig = Buffer.from(sigText, 'base64url');
  if (sig.length !== 64 || sig.toString('base64url') !== sigText) throw new Error(badEncoding);
  const { signature: _unsigned, ...signed } = receipt;
  const preImage = encoder.encode(canonicalizeUnchecked(signed));
  if (!ed25519Verify(Buffer.from(hex, 'hex'), preImage, sig)) {
    throw new Error('signature: does not verify under signer.public_key');
  }
  return hex;
}

// ------------------------------------------------------------------ chain --

function positiveInt(obj: Receipt, name: string): number {
  const v = obj[name];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 0;
}

function missingMember(r: Receipt): string {
  if (r['v'] !== RECEIPT_VERSION) return `v (expected "${RECEIPT_VERSION}")`;
  for (const name of ['kind', 'receipt_id', 'ledger_id', 'prev_hash']) {
    if (typeof r[name] !== 'string') return name;
  }
  if (!positiveInt(r, 'seq')) return 'seq';
  return '';
}

function normaliseKey(key: string | Uint8Array): string {
  if (typeof key === 'string') {
    const hex = key.trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new VerifyInputError('--trusted-key must be 64 hex characters');
    }
    return hex.toLowerCase();
  }
  if (key.length !== 32) throw new VerifyInputError('a trusted key must be 32 bytes');
  return Buffer.from(key).toString('hex');
}

interface Pin {
  ownSeq: number;
  ownHash: string;
  seq: number;
  headHash: string;
  ledgerId: string;
}

/**
 * The verifier, one line at a time (for exports too large to hold at once):
 * addTrustedCheckpoint() for each pin, then add() for each export line in
 * order, then finish(). Same rules as the gateway's ChainVerifier.
 */
export class Verifier {
  private readonly trusted: Set<string>;
  private readonly report: VerifyReport = {
    receipts: 0,
    checkpoints: 0,
    head_seq: 0,
    head_hash: '',
    integrity_ok: true,
    first_broken_seq: 0,
    first_broken_check: '',
    first_broken_detail: '',
    trust_ok: true,
    first_untrusted_seq: 0,
    untrusted_key_id: '',
    decisions_without_outcome: [],
  };
  private line = 0;
  private seenAny = false;
  private firstSeq = 0;
  private lastSeq = 0;
  private expectedPrev = '';
  private ledgerId = '';
  private readonly pins: Pin[] = [];
  private readonly openDecisions = new Map<string, true>();

  constructor(trustedKeys: ReadonlyArray<string | Uint8Array>) {
    this.trusted = new Set(trustedKeys.map(normaliseKey));
  }

  private fail(seq: number, check: BrokenCheck, detail: string): void {
    if (this.report.integrity_ok) {
      this.report.integrity_ok = false;
      this.report.first_broken_seq = seq;
      this.report.first_broken_check = check;
      this.report.first_broken_detail = detail;
    }
  }

  /** A checkpoint obtained first-hand; throws VerifyInputError if it is unusable. */
  addTrustedCheckpoint(stored: Line): void {
    if (this.line) throw new VerifyInputError('trusted checkpoints must come before the export');
    const pinLines = splitLines(stored);
    if (pinLines.length !== 1 || pinLines[0] === undefined) {
      throw new VerifyInputError('a trusted checkpoint must be exactly one receipt');
    }
    const line = pinLines[0];
    let r: Receipt;
    try {
      r = parseStored(line);
    } catch (e) {
      throw new VerifyInputError((e as Error).message);
    }
    const missing = missingMember(r);
    if (missing) throw new VerifyInputError('no valid ' + missing);
    if (r['kind'] !== 'checkpoint') throw new VerifyInputError('kind is not checkpoint');
    let key: string;
    try {
      key = checkSignature(r);
    } catch (e) {
      throw new VerifyInputError((e as Error).message);
    }
    if (!this.trusted.has(key)) throw new VerifyInputError('signed by an untrusted key');
    const body = r['checkpoint'];
    if (!isObject(body) || !positiveInt(body, 'seq') || typeof body['head_hash'] !== 'string') {
      throw new VerifyInputError('no valid checkpoint member');
    }
    this.pins.push({
      ownSeq: r['seq'] as number,
      ownHash: sha256Tagged(line),
      seq: body['seq'] as number,
      headHash: body['head_hash'],
      ledgerId: r['ledger_id'] as string,
    });
  }

  /** The next export line (without its newline). */
  add(stored: Line): void {
    const bytes = bytesOf(stored);
    this.line += 1;
    this.report.receipts += 1;
    const digest = sha256Tagged(bytes);
    let r: Receipt;
    try {
      r = parseStored(bytes);
      const missing = missingMember(r);
      if (missing) throw new FormatError('missing or invalid ' + missing);
    } catch (e) {
      this.fail(this.line, 'format', `line ${this.line}: ${(e as Error).message}`);
      this.expectedPrev = digest;
      return;
    }
    const seq = r['seq'] as number;
    let key: string | undefined;
    try {
      key = checkSignature(r);
    } catch (e) {
      this.fail(seq, 'signature', (e as Error).message);
    }
    this.checkChain(r, seq);
    if (r['kind'] === 'checkpoint') this.checkCheckpointBody(r, seq);
    this.checkPins(seq, digest);
    if (key !== undefined && !this.trusted.has(key) && this.report.trust_ok) {
      this.report.trust_ok = false;
      this.report.first_untrusted_seq = seq;
      this.report.untrusted_key_id = (r['signer'] as Receipt)['key_id'] as string;
    }
    this.trackDecisions(r);
    this.seenAny = true;
    this.lastSeq = seq;
    this.expectedPrev = digest;
    this.report.head_seq = seq;
    this.report.head_hash = digest;
  }

  private checkChain(r: Receipt, seq: number): void {
    const ledgerId = r['ledger_id'] as string;
    if (!this.ledgerId) this.ledgerId = ledgerId;
    if (ledgerId !== this.ledgerId) {
      this.fail(seq, 'ledger_id', `ledger_id "${ledgerId}" in a chain of "${this.ledgerId}"`);
    }
    if (!this.seenAny) {
      this.firstSeq = seq;
      if (seq === 1) this.expectedPrev = GENESIS_PREV_HASH;
    } else if (seq !== this.lastSeq + 1) {
      this.fail(seq, 'seq', `seq ${seq} follows ${this.lastSeq}`);
    }
    // A range export (first seq > 1) takes its first prev_hash on trust.
    const prev = r['prev_hash'] as string;
    if ((this.seenAny || seq === 1) && prev !== this.expectedPrev) {
      this.fail(seq, 'prev_hash',
        `prev_hash ${prev}, previous receipt hashes to ${this.expectedPrev}`);
    }
  }

  private checkCheckpointBody(r: Receipt, seq: number): void {
    this.report.checkpoints += 1;
    const body = r['checkpoint'];
    if (!isObject(body)) {
      this.fail(seq, 'checkpoint', 'checkpoint receipt without a checkpoint object');
    } else if (positiveInt(body, 'seq') !== seq - 1 || body['head_hash'] !== r['prev_hash']) {
      this.fail(seq, 'checkpoint', 'checkpoint does not describe the receipt before it');
    }
  }

  private checkPins(seq: number, digest: string): void {
    for (const pin of this.pins) {
      if (seq === pin.seq && digest !== pin.headHash) {
        this.fail(seq, 'checkpoint', `hash differs from trusted checkpoint seq ${pin.ownSeq}`);
      }
      if (seq === pin.ownSeq && digest !== pin.ownHash) {
        this.fail(seq, 'checkpoint', 'receipt differs from the trusted checkpoint at this seq');
      }
    }
  }

  private trackDecisions(r: Receipt): void {
    if (r['kind'] === 'decision' && r['verdict'] === 'ALLOW') {
      const id = r['receipt_id'] as string;
      if (!this.openDecisions.has(id)) this.openDecisions.set(id, true);
    } else if (r['kind'] === 'outcome' && typeof r['parent'] === 'string') {
      this.openDecisions.delete(r['parent']);
    }
  }

  /** The report, after the end-of-input checks against pinned checkpoints. */
  finish(): VerifyReport {
    // A trusted checkpoint must lie within the input: an input that ends
    // before it was cut off; one that starts after it was never checked.
    const head = this.report.head_seq;
    for (const pin of this.pins) {
      if (this.ledgerId && pin.ledgerId !== this.ledgerId) {
        this.fail(pin.ownSeq, 'ledger_id', `trusted checkpoint is from ledger "${pin.ledgerId}"`);
      }
      const pinned = `the trusted checkpoint at seq ${pin.ownSeq}`;
      if (head < pin.ownSeq) {
        this.fail(head + 1, 'truncated', `input ends at seq ${head}, before ${pinned}`);
      } else if (this.firstSeq > pin.ownSeq) {
        this.fail(pin.ownSeq, 'checkpoint',
          `input starts at seq ${this.firstSeq}, after ${pinned}: nothing was checked against it`);
      }
    }
    this.report.decisions_without_outcome = [...this.openDecisions.keys()];
    return { ...this.report, decisions_without_outcome: [...this.report.decisions_without_outcome] };
  }
}

/**
 * Verifies an export: its text or bytes (one stored receipt per line), or
 * its lines. Returns the report; exitCodeOf(report) gives 0, 3 or 4. Throws
 * VerifyInputError for a malformed trusted key or an unusable trusted
 * checkpoint (the CLI's exit 2).
 */
export function verifyExport(input: string | Uint8Array | ReadonlyArray<Line>,
  options: VerifyOptions): VerifyReport {
  const verifier = new Verifier(options.trustedKeys);
  for (const pin of options.trustedCheckpoints ?? []) verifier.addTrustedCheckpoint(pin);
  const lines = typeof input === 'string' || input instanceof Uint8Array ? splitLines(input) : input;
  for (const line of lines) verifier.add(line);
  return verifier.finish();
}
