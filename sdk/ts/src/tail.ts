// Follows the ledger through the admin API's Server-Sent Events endpoint,
// `GET /api/v1/receipts/tail` (docs/api.md).

/** One receipt as the tail delivers it. */
export interface TailedReceipt {
  /** The ledger position (the event's `id`). */
  seq: number;
  /**
   * The receipt, parsed with JSON.parse (helm records counts and costs at
   * most ±2^53, which a number holds exactly; `stored` is exact whatever it
   * holds).
   */
  receipt: Record<string, unknown>;
  /**
   * The receipt exactly as stored: the event's data line, one canonical
   * JSON text. These are the bytes an export line holds, the bytes a
   * verifier checks, and the bytes the next receipt's `prev_hash` covers.
   */
  stored: string;
}

export interface TailOptions {
  /** The admin API's base URL, e.g. `http://127.0.0.1:7714`. */
  adminUrl: string | URL;
  /** The admin token (`HELM_ADMIN_TOKEN`, or `<data-dir>/keys/admin.token`). */
  token: string;
  /** Only this agent's receipts (`?agent=`). */
  agent?: string;
  /**
   * Resume after this seq (sent as `Last-Event-ID`): the first receipt
   * yielded is the next one after it. `0` starts at the ledger's first
   * receipt; without it the tail starts at the current head and yields only
   * receipts appended from then on.
   */
  lastEventId?: number | string;
  /** Aborts the request; the generator then throws the abort reason (an AbortError by default). */
  signal?: AbortSignal;
}

/** A tail that could not start (non-200) or that the server ended with `event: error`. */
export class HelmTailError extends Error {
  /** helm's error code (`UNAUTHENTICATED`, `LEDGER_UNAVAILABLE`, …), or `HTTP_<status>` / `PROTOCOL_ERROR`. */
  readonly code: string;
  /** The HTTP status for a refused request; undefined for an error event. */
  readonly status: number | undefined;
  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'HelmTailError';
    this.code = code;
    this.status = status;
  }
}

interface SseEvent {
  type: string;
  data: string;
  id: string | undefined;
}

// An incremental text/event-stream parser (the WHATWG HTML "event stream
// interpretation"): lines end with CRLF, LF or CR, and may be split
// anywhere across chunks; comments (":" lines) are dropped; an event is
// dispatched at an empty line; a half-received event at the end is dropped.
class SseParser {
  private buffer = '';
  private pendingCR = false; // the last chunk ended in CR: a following LF belongs to it
  private data: string[] = [];
  private type = '';
  private id: string | undefined;
  private hasData = false;

  push(chunk: string, out: SseEvent[]): void {
    let text = chunk;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    let start = 0;
    const buf = this.buffer;
    for (;;) {
      let end = -1;
      for (let i = start; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c === 0x0a || c === 0x0d) {
          end = i;
          break;
        }
      }
      if (end < 0) break;
      this.line(buf.slice(start, end), out);
      if (buf.charCodeAt(end) === 0x0d) {
        if (end + 1 === buf.length) {
          this.pendingCR = true;
          start = end + 1;
          break;
        }
        start = buf.charCodeAt(end + 1) === 0x0a ? end + 2 : end + 1;
      } else {
        start = end + 1;
      }
    }
    this.buffer = buf.slice(start);
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.hasData) {
        out.push({ type: this.type || 'message', data: this.data.join('\n'), id: this.id });
      }
      this.data = [];
      this.type = '';
      this.hasData = false;
      return;
    }
    if (line.startsWith(':')) return; // a comment: `: keep-alive`
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      default: // `retry` and unknown fields: nothing to do here
        break;
    }
  }
}

function tailUrl(adminUrl: string | URL, agent: string | undefined): URL {
  const base = String(adminUrl).replace(/\/+$/, '');
  const url = new URL(base + '/api/v1/receipts/tail');
  if (agent !== undefined && agent !== '') url.searchParams.set('agent', agent);
  return url;
}

function errorOf(text: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const e = parsed?.error;
    return {
      ...(typeof e?.code === 'string' ? { code: e.code } : {}),
      ...(typeof e?.message === 'string' ? { message: e.message } : {}),
    };
  } catch {
    return {};
  }
}

function receiptOf(event: SseEvent): TailedReceipt {
  let receipt: unknown;
  try {
    receipt = JSON.parse(event.data);
  } catch {
    throw new HelmTailError('PROTOCOL_ERROR', `receipt event ${event.id ?? '?'} is not JSON`);
  }
  if (typeof receipt !== 'object' || receipt === null || Array.isArray(receipt)) {
    throw new HelmTailError('PROTOCOL_ERROR', `receipt event ${event.id ?? '?'} is not an object`);
  }
  const r = receipt as Record<string, unknown>;
  const seq = event.id !== undefined && /^[0-9]+$/.test(event.id) ? Number(event.id) : r['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
    throw new HelmTailError('PROTOCOL_ERROR', 'receipt event without a valid seq');
  }
  return { seq, receipt: r, stored: event.data };
}

/**
 * Follows receipts as the ledger appends them: an async generator over
 * `GET /api/v1/receipts/tail`, one value per `event: receipt`, in seq order.
 *
 * It ends when the server closes the stream, throws HelmTailError on a
 * non-200 answer (401 `UNAUTHENTICATED` for a wrong token) or on an
 * `event: error` (`LEDGER_UNAVAILABLE`), and throws the abort reason when
 * `signal` aborts (an AbortError by default). Leaving a `for await` loop
 * closes the connection.
 *
 * There is no automatic reconnect: to resume after an error or a dropped
 * connection, call tailReceipts again with `lastEventId` set to the last
 * `seq` you handled; the server starts with the receipt after it.
 */
export async function* tailReceipts(options: TailOptions): AsyncGenerator<TailedReceipt, void, undefined> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${options.token}`,
    Accept: 'text/event-stream',
    'Cache-Control': 'no-cache',
  };
  if (options.lastEventId !== undefined) headers['Last-Event-ID'] = String(options.lastEventId);
  const init: RequestInit = { headers };
  if (options.signal !== undefined) init.signal = options.signal;
  const res = await fetch(tailUrl(options.adminUrl, options.agent), init);
  if (res.status !== 200) {
    const body = await res.text().catch(() => '');
    const e = errorOf(body);
    throw new HelmTailError(e.code ?? `HTTP_${res.status}`,
      `receipts tail: HTTP ${res.status}${e.code ? ` ${e.code}` : ''}${e.message ? `: ${e.message}` : ''}`,
      res.status);
  }
  const type = res.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('text/event-stream') || res.body === null) {
    await res.body?.cancel().catch(() => undefined);
    throw new HelmTailError('PROTOCOL_ERROR',
      `receipts tail: expected text/event-stream, got "${type}"`, res.status);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        parser.push(decoder.decode(), events);
      } else {
        parser.push(decoder.decode(value, { stream: true }), events);
      }
      for (const event of events.splice(0)) {
        if (event.type === 'error') {
          const e = errorOf(event.data);
          throw new HelmTailError(e.code ?? 'TAIL_ERROR',
            `receipts tail: ${e.code ?? 'error'}${e.message ? `: ${e.message}` : ''}`);
        }
        if (event.type === 'receipt') yield receiptOf(event);
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}
