// The X-Helm-* headers of a proxied response, and the output hash that ties a
// response body to its outcome receipt (docs/api.md, "Proxy").
import { createHash } from 'node:crypto';

export type HelmStatus = 'ALLOW' | 'DENY' | 'ESCALATE';

/** What helm says about one request, from the response headers. */
export interface HelmHeaders {
  /** X-Helm-Decision-ID: the decision's id (`dec_…`). */
  decisionId: string;
  /** X-Helm-Receipt-ID: the decision receipt's id (`rcpt_…`). */
  receiptId: string;
  /** X-Helm-Status: the verdict. */
  status: HelmStatus;
  /** X-Helm-Reason-Code: empty for an ALLOW by a rule that names no reason. */
  reasonCode: string;
  /** X-Helm-Correlation-ID: the client's X-Request-ID / traceparent id, or one helm minted. */
  correlationId: string;
  /** X-Helm-Output-Hash (non-streaming responses): `sha256:<hex>` of the body bytes. */
  outputHash?: string;
  /** X-Helm-Approval-ID (ESCALATE): the approval to ask an operator for. */
  approvalId?: string;
  /** X-Helm-Lane (success): the lane that served the request. */
  lane?: string;
  /** X-Helm-Model (success): the model that served it. */
  model?: string;
  /** X-Helm-Fallbacks (success): how many candidates failed before it. */
  fallbacks?: number;
}

/** Anything that carries HTTP response headers. */
export type HeaderSource =
  | { get(name: string): string | null | undefined }
  | { headers: HeaderSource }
  | Readonly<Record<string, string | readonly string[] | number | undefined | null>>;

/** A response without helm's decision headers, or with malformed ones. */
export class HelmHeadersError extends Error {
  /** Names of the headers that were missing or malformed. */
  readonly headers: string[];
  constructor(message: string, headers: string[]) {
    super(message);
    this.name = 'HelmHeadersError';
    this.headers = headers;
  }
}

type Lookup = (name: string) => string | undefined;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function headerValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join(', ');
  return String(v);
}

// A case-insensitive lookup over a fetch Headers, a Map, a plain object of
// header name -> value (Node's IncomingHttpHeaders, axios), or an object with
// `.headers` (a fetch Response, the openai SDK's raw response, an APIError).
function lookupOf(source: unknown, depth = 0): Lookup {
  if (!isObject(source) || depth > 3) {
    throw new TypeError('readHelmHeaders: expected a Headers object, a header map, or a response');
  }
  if (typeof source['get'] === 'function') {
    const get = source['get'] as (name: string) => unknown;
    if (source instanceof Map) {
      const lower = new Map<string, string>();
      for (const [k, v] of source as Map<unknown, unknown>) {
        const value = headerValue(v);
        if (value !== undefined) lower.set(String(k).toLowerCase(), value);
      }
      return (name) => lower.get(name);
    }
    // fetch Headers (and look-alikes) are case-insensitive already.
    return (name) => headerValue(get.call(source, name));
  }
  if ('headers' in source && isObject(source['headers'])) {
    return lookupOf(source['headers'], depth + 1);
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(source)) {
    const value = headerValue(v);
    if (value !== undefined) lower.set(k.toLowerCase(), value);
  }
  return (name) => lower.get(name);
}

const STATUSES: ReadonlySet<string> = new Set(['ALLOW', 'DENY', 'ESCALATE']);
const HASH_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * Reads helm's headers from a response (fetch `Response`, the openai SDK's
 * `response` from `.withResponse()`, an `APIError`), from its `Headers`, or
 * from a plain header object in any letter case.
 *
 * Throws HelmHeadersError when the decision headers are absent (a response
 * helm answered before deciding, such as a 401 for a wrong key, carries only
 * X-Helm-Correlation-ID) or malformed.
 */
export function readHelmHeaders(source: HeaderSource): HelmHeaders {
  const get = lookupOf(source);
  const required = {
    decisionId: 'x-helm-decision-id',
    receiptId: 'x-helm-receipt-id',
    status: 'x-helm-status',
    reasonCode: 'x-helm-reason-code',
    correlationId: 'x-helm-correlation-id',
  } as const;
  const missing = Object.values(required).filter((h) => get(h) === undefined);
  if (missing.length > 0) {
    throw new HelmHeadersError(`response carries no helm decision: missing ${missing.join(', ')}`,
      missing);
  }
  const status = (get(required.status) ?? '').trim();
  if (!STATUSES.has(status)) {
    throw new HelmHeadersError(`x-helm-status "${status}" is not ALLOW, DENY or ESCALATE`,
      [required.status]);
  }
  const out: HelmHeaders = {
    decisionId: (get(required.decisionId) ?? '').trim(),
    receiptId: (get(required.receiptId) ?? '').trim(),
    status: status as HelmStatus,
    reasonCode: (get(required.reasonCode) ?? '').trim(),
    correlationId: (get(required.correlationId) ?? '').trim(),
  };
  const optional = (name: string): string | undefined => {
    const v = get(name);
    return v === undefined ? undefined : v.trim();
  };
  const outputHash = optional('x-helm-output-hash');
  if (outputHash !== undefined) out.outputHash = outputHash;
  const approvalId = optional('x-helm-approval-id');
  if (approvalId !== undefined) out.approvalId = approvalId;
  const lane = optional('x-helm-lane');
  if (lane !== undefined) out.lane = lane;
  const model = optional('x-helm-model');
  if (model !== undefined) out.model = model;
  const fallbacks = optional('x-helm-fallbacks');
  if (fallbacks !== undefined) {
    if (!/^[0-9]{1,9}$/.test(fallbacks)) {
      throw new HelmHeadersError(`x-helm-fallbacks "${fallbacks}" is not a count`,
        ['x-helm-fallbacks']);
    }
    out.fallbacks = Number(fallbacks);
  }
  return out;
}

function bytesOf(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return body;
}

/**
 * `sha256:<hex>` of the exact body bytes (a string is taken as UTF-8). Hash
 * the bytes as received (`await response.arrayBuffer()`): text that was
 * decoded and re-encoded differs wherever the body was not valid UTF-8.
 */
export function outputHashOf(body: string | Uint8Array | ArrayBuffer): string {
  return 'sha256:' + createHash('sha256').update(bytesOf(body)).digest('hex');
}

/**
 * True when the response's X-Helm-Output-Hash is the hash of `body`; false
 * when it differs or is absent (streaming responses carry none: see
 * streamOutputHash).
 */
export function checkOutputHash(body: string | Uint8Array | ArrayBuffer,
  source: HeaderSource): boolean {
  const declared = lookupOf(source)('x-helm-output-hash')?.trim().toLowerCase();
  return declared !== undefined && HASH_RE.test(declared) && declared === outputHashOf(body);
}

// `: helm-output-hash sha256:<hex>` on a line of its own.
const STREAM_HASH_RE = /(^|\r\n|\n|\r): helm-output-hash (sha256:[0-9a-f]{64})(?=\r\n|\n|\r|$)/g;

function textOf(body: string | Uint8Array | ArrayBuffer): string {
  return typeof body === 'string' ? body : new TextDecoder().decode(bytesOf(body));
}

/**
 * The output hash that a streamed (SSE) response announces in its closing
 * comment line `: helm-output-hash sha256:<hex>`, or undefined when the
 * body has none (an interrupted stream, or not a helm stream). The outcome
 * receipt of the request carries the same value in `output_hash`.
 */
export function streamOutputHash(sseText: string | Uint8Array | ArrayBuffer): string | undefined {
  let found: string | undefined;
  for (const m of textOf(sseText).matchAll(STREAM_HASH_RE)) found = m[2];
  return found;
}

/**
 * True when a streamed body's closing `: helm-output-hash` comment is the
 * SHA-256 of every body byte before that comment line, i.e. the client got
 * exactly what helm hashed into the outcome receipt. Pass the raw bytes.
 */
export function checkStreamOutputHash(body: Uint8Array | ArrayBuffer | string): boolean {
  const bytes = bytesOf(body);
  const marker = new TextEncoder().encode(': helm-output-hash sha256:');
  // The last occurrence at the start of a line.
  for (let i = bytes.length - marker.length; i >= 0; i--) {
    if (i > 0 && bytes[i - 1] !== 0x0a && bytes[i - 1] !== 0x0d) continue;
    let match = true;
    for (let j = 0; j < marker.length; j++) {
      if (bytes[i + j] !== marker[j]) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    const start = i + marker.length;
    const hex = new TextDecoder().decode(bytes.subarray(start, start + 64));
    const after = bytes[start + 64];
    if (!/^[0-9a-f]{64}$/.test(hex) ||
        (after !== undefined && after !== 0x0a && after !== 0x0d)) {
      return false;
    }
    return outputHashOf(bytes.subarray(0, i)) === 'sha256:' + hex;
  }
  return false;
}
