// End to end against the real helm binary: `helm proxy --upstream mock://
// --policy policies/development.toml` on loopback ports, requests with fetch,
// the receipts through tailReceipts, then the stopped ledger's export through
// verifyExport and the CLI.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  HelmTailError,
  checkOutputHash,
  checkStreamOutputHash,
  outputHashOf,
  readHelmHeaders,
  streamOutputHash,
  tailReceipts,
  verifyExport,
} from '../dist/index.js';
import { pythonVerify, runHelm, sleep, startHelm, tsVerify } from '../test-support/helpers.mjs';

let helm;
// The tail, from the ledger's first receipt, running for the whole test.
const tailed = [];
let tailError;
const tailAbort = new AbortController();
let tailDone;

async function waitForReceipt(predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = tailed.find((t) => predicate(t.receipt));
    if (hit) return hit;
    if (tailError) throw tailError;
    if (Date.now() > deadline) {
      throw new Error(`no such receipt within ${timeoutMs} ms; tailed seqs ${tailed.map((t) => t.seq)}`);
    }
    await sleep(20);
  }
}

function chat(body, extraHeaders = {}) {
  return fetch(`${helm.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${helm.key}`, 'Content-Type': 'application/json', ...extraHeaders },
    body: JSON.stringify(body),
  });
}

before(async () => {
  helm = await startHelm();
  tailDone = (async () => {
    try {
      for await (const r of tailReceipts({ adminUrl: helm.adminUrl, token: helm.token, lastEventId: 0,
        signal: tailAbort.signal })) {
        tailed.push(r);
      }
    } catch (e) {
      if (e.name !== 'AbortError') tailError = e;
    }
  })();
});

after(async () => {
  tailAbort.abort();
  await tailDone;
  if (helm) {
    await helm.stop();
    rmSync(helm.dataDir, { recursive: true, force: true });
  }
});

describe('against a running helm', () => {
  let plain; // {headers, bytes}
  let streamed; // {headers, bytes}

  it('reads the X-Helm-* headers and checks the output hash of a completion', async () => {
    const res = await chat({ model: 'auto', messages: [{ role: 'user', content: 'Grüße from the TS SDK' }] },
      { 'X-Request-ID': 'req-sdk-ts-0001' });
    assert.equal(res.status, 200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const h = readHelmHeaders(res);
    assert.equal(h.status, 'ALLOW');
    assert.match(h.decisionId, /^dec_[0-9A-Z]{26}$/);
    assert.match(h.receiptId, /^rcpt_[0-9A-Z]{26}$/);
    assert.equal(typeof h.reasonCode, 'string');
    assert.ok(h.correlationId.length > 0);
    assert.ok(h.lane && h.model, 'a successful response names lane and model');
    assert.equal(h.fallbacks, 0);
    assert.equal(h.outputHash, outputHashOf(bytes));
    assert.equal(checkOutputHash(bytes, res), true);
    const changed = Uint8Array.from(bytes);
    changed[changed.length - 2] ^= 1;
    assert.equal(checkOutputHash(changed, res.headers), false);
    plain = { headers: h, bytes };
  });

  it('reads the output hash of a stream from its closing comment', async () => {
    const res = await chat({ model: 'auto', stream: true, messages: [{ role: 'user', content: 'stream, please' }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const h = readHelmHeaders(res);
    assert.equal(h.status, 'ALLOW');
    assert.equal(h.outputHash, undefined, 'a stream has no X-Helm-Output-Hash header');
    const hash = streamOutputHash(bytes);
    assert.match(hash ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(checkStreamOutputHash(bytes), true);
    streamed = { headers: h, bytes, hash };
  });

  it('tails the decision receipts the responses name, and their outcomes', async () => {
    assert.ok(plain && streamed, 'the requests above ran');
    for (const { headers } of [plain, streamed]) {
      const d = await waitForReceipt((r) => r.receipt_id === headers.receiptId);
      assert.equal(d.receipt.kind, 'decision');
      assert.equal(d.receipt.verdict, 'ALLOW');
      assert.equal(d.receipt.decision_id, headers.decisionId);
      assert.equal(d.receipt.correlation_id, headers.correlationId);
      assert.equal(d.receipt.seq, d.seq);
      assert.equal(JSON.stringify(JSON.parse(d.stored)), JSON.stringify(d.receipt));
    }
    const plainOutcome = await waitForReceipt((r) => r.kind === 'outcome' && r.parent === plain.headers.receiptId);
    assert.equal(plainOutcome.receipt.output_hash, plain.headers.outputHash);
    const streamOutcome = await waitForReceipt((r) => r.kind === 'outcome' && r.parent === streamed.headers.receiptId);
    assert.equal(streamOutcome.receipt.output_hash, streamed.hash);
    assert.equal(streamOutcome.receipt.status, 'completed');
    // The tail delivers the chain in order, from seq 1, and its stored
    // lines verify as an export would.
    assert.deepEqual(tailed.map((t) => t.seq), tailed.map((_, i) => i + 1));
    const report = verifyExport(tailed.map((t) => t.stored), { trustedKeys: [helm.signingKey] });
    assert.equal(report.integrity_ok, true, report.first_broken_detail);
    assert.equal(report.trust_ok, true);
  });

  it('resumes after a Last-Event-ID and filters by agent', async () => {
    const d = await waitForReceipt((r) => r.receipt_id === plain.headers.receiptId);
    for await (const r of tailReceipts({ adminUrl: helm.adminUrl, token: helm.token, lastEventId: d.seq })) {
      assert.equal(r.seq, d.seq + 1);
      assert.equal(r.stored, tailed.find((t) => t.seq === d.seq + 1).stored);
      break;
    }
    for await (const r of tailReceipts({ adminUrl: helm.adminUrl, token: helm.token, lastEventId: 0,
      agent: 'root' })) {
      assert.equal(r.receipt.principal.agent, 'root');
      break;
    }
  });

  it('refuses a wrong admin token with 401', async () => {
    await assert.rejects(async () => {
      for await (const r of tailReceipts({ adminUrl: helm.adminUrl, token: 'not-the-token' })) void r;
    }, (e) => {
      assert.ok(e instanceof HelmTailError);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'UNAUTHENTICATED');
      return true;
    });
  });

  it('a refused API key gets no decision headers', async () => {
    const res = await fetch(`${helm.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: 'Bearer hk_wrong', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.arrayBuffer();
    assert.equal(res.status, 401);
    assert.ok(res.headers.get('x-helm-correlation-id'));
    assert.throws(() => readHelmHeaders(res), /missing x-helm-decision-id/);
  });

  it('a denied request carries DENY and its reason', async () => {
    const res = await chat({ model: 'auto', messages: [{ role: 'user',
      content: '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----' }] });
    await res.arrayBuffer();
    assert.equal(res.status, 403);
    const h = readHelmHeaders(res);
    assert.equal(h.status, 'DENY');
    assert.equal(h.reasonCode, 'SECRET_IN_PROMPT');
    assert.equal(h.lane, undefined);
    const d = await waitForReceipt((r) => r.receipt_id === h.receiptId);
    assert.equal(d.receipt.verdict, 'DENY');
    assert.equal(d.receipt.reason_code, 'SECRET_IN_PROMPT');
  });

  it('verifies the export of the stopped ledger, with the library and the CLI', async () => {
    const last = tailed.at(-1).seq;
    tailAbort.abort();
    await tailDone;
    assert.equal(tailError, undefined);
    const { code, signal } = await helm.stop();
    assert.equal(code ?? signal, 0, helm.log());

    const file = path.join(helm.dataDir, 'export.jsonl');
    const exp = runHelm(['receipts', 'export', '--data-dir', helm.dataDir, '--out', file]);
    assert.equal(exp.code, 0, exp.stderr);
    const report = verifyExport(readFileSync(file), { trustedKeys: [helm.signingKey] });
    assert.equal(report.integrity_ok, true, report.first_broken_detail);
    assert.equal(report.trust_ok, true);
    assert.ok(report.head_seq >= last);
    assert.deepEqual(report.decisions_without_outcome, []);

    // The export holds the same bytes the tail delivered.
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const t of tailed) assert.equal(lines[t.seq - 1], t.stored, `seq ${t.seq}`);

    const cli = tsVerify(file, [helm.signingKey]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(cli.report, report);
    assert.deepEqual(pythonVerify(file, [helm.signingKey]).report, report);
    const other = tsVerify(file, ['00'.repeat(31) + '01']);
    assert.equal(other.code, 4);
  });
});
