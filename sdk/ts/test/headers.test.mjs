import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  HelmHeadersError,
  checkOutputHash,
  checkStreamOutputHash,
  outputHashOf,
  readHelmHeaders,
  streamOutputHash,
} from '../dist/index.js';

const sha = (bytes) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

const FULL = {
  'X-Helm-Decision-ID': 'dec_01J0000000000000000000000A',
  'X-Helm-Receipt-ID': 'rcpt_01J0000000000000000000000B',
  'X-Helm-Status': 'ALLOW',
  'X-Helm-Reason-Code': '',
  'X-Helm-Correlation-ID': 'cor_01J0000000000000000000000C',
  'X-Helm-Output-Hash': 'sha256:' + 'ab'.repeat(32),
  'X-Helm-Lane': 'balanced',
  'X-Helm-Model': 'mock-small',
  'X-Helm-Fallbacks': '2',
  'Content-Type': 'application/json',
};

describe('readHelmHeaders', () => {
  it('reads a fetch Headers object', () => {
    const h = readHelmHeaders(new Headers(FULL));
    assert.deepEqual(h, {
      decisionId: 'dec_01J0000000000000000000000A',
      receiptId: 'rcpt_01J0000000000000000000000B',
      status: 'ALLOW',
      reasonCode: '',
      correlationId: 'cor_01J0000000000000000000000C',
      outputHash: 'sha256:' + 'ab'.repeat(32),
      lane: 'balanced',
      model: 'mock-small',
      fallbacks: 2,
    });
    assert.equal(typeof h.fallbacks, 'number');
  });

  it('reads a Response and an object with .headers', () => {
    const res = new Response('{}', { headers: FULL });
    assert.equal(readHelmHeaders(res).receiptId, 'rcpt_01J0000000000000000000000B');
    // An axios-like response: headers as a plain object.
    assert.equal(readHelmHeaders({ status: 200, headers: { 'x-helm-status': 'DENY',
      'x-helm-decision-id': 'd', 'x-helm-receipt-id': 'r', 'x-helm-reason-code': 'X',
      'x-helm-correlation-id': 'c' } }).status, 'DENY');
  });

  it('reads a plain object in mixed case, without the optional headers', () => {
    const h = readHelmHeaders({
      'x-HELM-decision-id': 'dec_1',
      'X-HELM-RECEIPT-ID': 'rcpt_1',
      'x-helm-Status': 'ESCALATE',
      'X-Helm-reason-code': 'APPROVAL_REQUIRED',
      'x-helm-correlation-ID': 'cor_1',
      'X-Helm-Approval-Id': 'apr_1',
    });
    assert.deepEqual(h, {
      decisionId: 'dec_1',
      receiptId: 'rcpt_1',
      status: 'ESCALATE',
      reasonCode: 'APPROVAL_REQUIRED',
      correlationId: 'cor_1',
      approvalId: 'apr_1',
    });
    for (const name of ['outputHash', 'lane', 'model', 'fallbacks']) assert.ok(!(name in h), name);
  });

  it('reads a Map and array values (Node IncomingHttpHeaders style)', () => {
    const m = new Map(Object.entries(FULL).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(readHelmHeaders(m).decisionId, 'dec_01J0000000000000000000000A');
    const withArray = { ...FULL, 'X-Helm-Lane': ['fast'] };
    assert.equal(readHelmHeaders(withArray).lane, 'fast');
  });

  it('refuses a response without a decision, naming what is missing', () => {
    // What helm sends for a wrong API key: only the correlation id.
    assert.throws(() => readHelmHeaders(new Headers({ 'X-Helm-Correlation-ID': 'cor_1' })), (e) => {
      assert.ok(e instanceof HelmHeadersError);
      assert.deepEqual(e.headers, ['x-helm-decision-id', 'x-helm-receipt-id', 'x-helm-status',
        'x-helm-reason-code']);
      return true;
    });
  });

  it('refuses an unknown status and a malformed fallback count', () => {
    assert.throws(() => readHelmHeaders({ ...FULL, 'X-Helm-Status': 'MAYBE' }), /ALLOW, DENY or ESCALATE/);
    assert.throws(() => readHelmHeaders({ ...FULL, 'X-Helm-Fallbacks': 'two' }), /fallbacks/);
    assert.throws(() => readHelmHeaders(null), TypeError);
  });
});

describe('output hashes', () => {
  const body = '{"id":"chatcmpl-1","choices":[{"message":{"content":"Grüße 😀"}}]}';

  it('hashes the exact UTF-8 bytes of a string, a Uint8Array or an ArrayBuffer', () => {
    const bytes = Buffer.from(body, 'utf8');
    const expected = sha(bytes);
    assert.equal(outputHashOf(body), expected);
    assert.equal(outputHashOf(new Uint8Array(bytes)), expected);
    assert.equal(outputHashOf(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)), expected);
    assert.equal(outputHashOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.notEqual(outputHashOf(body + ' '), expected);
  });

  it('checkOutputHash compares with X-Helm-Output-Hash', () => {
    const headers = new Headers({ ...FULL, 'X-Helm-Output-Hash': sha(Buffer.from(body)) });
    assert.equal(checkOutputHash(body, headers), true);
    assert.equal(checkOutputHash(Buffer.from(body), { headers }), true);
    assert.equal(checkOutputHash(body.replace('1', '2'), headers), false);
    const { 'X-Helm-Output-Hash': _, ...noHash } = FULL;
    assert.equal(checkOutputHash(body, noHash), false);
  });

  it('streamOutputHash finds the closing comment, LF or CRLF', () => {
    const hash = sha(Buffer.from('x'));
    const lf = `data: {"a":1}\n\ndata: [DONE]\n\n: helm-output-hash ${hash}\n\n`;
    assert.equal(streamOutputHash(lf), hash);
    assert.equal(streamOutputHash(lf.replaceAll('\n', '\r\n')), hash);
    assert.equal(streamOutputHash(Buffer.from(lf)), hash);
    assert.equal(streamOutputHash('data: {"a":1}\n\ndata: [DONE]\n\n'), undefined);
    // Only a comment line counts, not the same text inside an event's data.
    assert.equal(streamOutputHash(`data: {"t":": helm-output-hash ${hash}"}\n\n`), undefined);
    assert.equal(streamOutputHash(`: helm-output-hash sha256:${'0'.repeat(63)}\n\n`), undefined);
  });

  it('checkStreamOutputHash checks the comment against the bytes before it', () => {
    const events = 'data: {"choices":[{"delta":{"content":"Grüße"}}]}\n\ndata: [DONE]\n\n';
    const good = `${events}: helm-output-hash ${sha(Buffer.from(events))}\n\n`;
    assert.equal(checkStreamOutputHash(Buffer.from(good)), true);
    assert.equal(checkStreamOutputHash(good.replace('Grüße', 'Grüsse')), false);
    assert.equal(checkStreamOutputHash(events), false);
  });
});
