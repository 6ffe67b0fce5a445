// tailReceipts against a scripted SSE server on loopback: events split
// across network chunks at every kind of boundary, LF, CRLF and CR, comments,
// the error event, a refused token, abort and early exit.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';

import { HelmTailError, tailReceipts } from '../dist/index.js';
import { sleep } from '../test-support/helpers.mjs';

// Receipts as the ledger stores them (canonical JSON, non-ASCII included).
const STORED = [
  '{"kind":"decision","principal":{"agent":"agent-ü😀","api_key_id":"k1"},"receipt_id":"rcpt_1","seq":1,"verdict":"ALLOW"}',
  '{"kind":"outcome","output_hash":"sha256:' + 'a'.repeat(64) + '","parent":"rcpt_1","receipt_id":"rcpt_2","seq":2}',
  '{"kind":"decision","reason_code":"tab\\there \\"q\\" \\\\","receipt_id":"rcpt_3","seq":3,"verdict":"DENY"}',
];

function eventStream(eol) {
  const e = (lines) => lines.join(eol) + eol + eol;
  return ': keep-alive' + eol + eol +
    e(['id: 1', 'event: receipt', `data: ${STORED[0]}`]) +
    ': keep-alive' + eol + eol +
    e(['id: 2', 'event: receipt', `data:${STORED[1]}`]) + // no space after the colon is allowed too
    e(['retry: 1000']) +
    e(['event: receipt', 'id: 3', `data: ${STORED[2]}`]);
}

// Each scenario: (req, res) => void, chosen by the admin URL's path
// prefix (which tailReceipts must keep). The server records each request.
const scenarios = new Map();
const requests = [];
let server;
let base;

before(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers });
    // adminUrl `${base}/s/NAME` → `/s/NAME/api/v1/receipts/tail`
    const m = /^\/s\/([^/]+)\/api\/v1\/receipts\/tail(\?|$)/.exec(req.url);
    const handler = m ? scenarios.get(m[1]) : undefined;
    if (!handler) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const at = (name) => `${base}/s/${name}`;
const sse = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });

// Sends `bytes` in pieces of the given sizes (cycled), each its own write,
// with a pause so that they arrive as separate reads.
async function writeInPieces(res, bytes, sizes) {
  res.socket.setNoDelay(true);
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const n = sizes[k++ % sizes.length];
    res.write(bytes.subarray(i, i + n));
    i += n;
    await sleep(2);
  }
}

async function collect(options) {
  const out = [];
  for await (const r of tailReceipts(options)) out.push(r);
  return out;
}

function checkReceipts(got) {
  assert.deepEqual(got.map((r) => r.seq), [1, 2, 3]);
  assert.deepEqual(got.map((r) => r.stored), STORED);
  assert.deepEqual(got.map((r) => r.receipt), STORED.map((s) => JSON.parse(s)));
  assert.equal(got[0].receipt.principal.agent, 'agent-ü😀');
}

describe('tailReceipts', () => {
  for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']]) {
    it(`parses events split across chunks (${name} line ends)`, async () => {
      const bytes = Buffer.from(eventStream(eol), 'utf8');
      scenarios.set(`chunks-${name}`, async (req, res) => {
        sse(res);
        // Pieces of 1..7 bytes: every line end, field name and multi-byte
        // character is split somewhere, CR and LF of a CRLF included.
        await writeInPieces(res, bytes, [1, 2, 3, 5, 7]);
        res.end();
      });
      checkReceipts(await collect({ adminUrl: at(`chunks-${name}`), token: 't0k' }));
    });
  }

  it('sends the token, Last-Event-ID and ?agent=, keeping the URL prefix', async () => {
    scenarios.set('whole', (req, res) => {
      sse(res);
      res.end(eventStream('\n'));
    });
    requests.length = 0;
    checkReceipts(await collect({ adminUrl: at('whole') + '/', token: 'secret-token', agent: 'agent ü/1',
      lastEventId: 41 }));
    const req = requests.at(-1);
    assert.equal(req.headers.authorization, 'Bearer secret-token');
    assert.equal(req.headers['last-event-id'], '41');
    assert.equal(req.headers.accept, 'text/event-stream');
    const url = new URL(req.url, 'http://x');
    assert.equal(url.pathname, '/s/whole/api/v1/receipts/tail');
    assert.equal(url.searchParams.get('agent'), 'agent ü/1');

    await collect({ adminUrl: at('whole'), token: 't' });
    assert.equal(requests.at(-1).headers['last-event-id'], undefined);
    assert.equal(new URL(requests.at(-1).url, 'http://x').search, '');
  });

  it('throws HTTP_<status> for a refusal without an error body', async () => {
    await assert.rejects(collect({ adminUrl: at('no-such-scenario'), token: 't' }), (e) => {
      assert.ok(e instanceof HelmTailError);
      assert.equal(e.status, 404);
      assert.equal(e.code, 'HTTP_404');
      return true;
    });
  });

  it('throws the error event, with its code, after the receipts before it', async () => {
    scenarios.set('error', (req, res) => {
      sse(res);
      res.end(`id: 1\nevent: receipt\ndata: ${STORED[0]}\n\n` +
        'event: error\ndata: {"error":{"code":"LEDGER_UNAVAILABLE","message":"Corruption: block checksum mismatch"}}\n\n' +
        `id: 2\nevent: receipt\ndata: ${STORED[1]}\n\n`);
    });
    const seen = [];
    await assert.rejects(async () => {
      for await (const r of tailReceipts({ adminUrl: at('error'), token: 't' })) {
        seen.push(r.seq);
      }
    }, (e) => {
      assert.ok(e instanceof HelmTailError);
      assert.equal(e.code, 'LEDGER_UNAVAILABLE');
      assert.equal(e.status, undefined);
      assert.match(e.message, /block checksum mismatch/);
      return true;
    });
    assert.deepEqual(seen, [1]);
  });

  it('throws on 401 with the server\'s code', async () => {
    scenarios.set('unauthorized', (req, res) => {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"error":{"code":"UNAUTHENTICATED","message":"admin token required"}}');
    });
    await assert.rejects(collect({ adminUrl: at('unauthorized'), token: 'wrong' }), (e) => {
      assert.ok(e instanceof HelmTailError);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'UNAUTHENTICATED');
      assert.match(e.message, /401/);
      return true;
    });
  });

  it('refuses a 200 that is not an event stream', async () => {
    scenarios.set('json', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    await assert.rejects(collect({ adminUrl: at('json'), token: 't' }),
      (e) => e instanceof HelmTailError && e.code === 'PROTOCOL_ERROR');
  });

  it('drops a half-received event when the stream ends', async () => {
    scenarios.set('cut', (req, res) => {
      sse(res);
      res.end(`id: 1\nevent: receipt\ndata: ${STORED[0]}\n\nid: 2\nevent: receipt\ndata: ${STORED[1]}\n`);
    });
    const got = await collect({ adminUrl: at('cut'), token: 't' });
    assert.deepEqual(got.map((r) => r.seq), [1]);
  });

  it('closes the connection when the loop is left, and throws on abort', async () => {
    let closed = 0;
    scenarios.set('open', (req, res) => {
      sse(res);
      res.write(`id: 1\nevent: receipt\ndata: ${STORED[0]}\n\n`);
      res.on('close', () => closed++);
      // Stays open, as a live tail does.
    });
    for await (const r of tailReceipts({ adminUrl: at('open'), token: 't' })) {
      assert.equal(r.seq, 1);
      break;
    }
    for (let i = 0; i < 100 && closed < 1; i++) await sleep(10);
    assert.equal(closed, 1);

    const controller = new AbortController();
    const seen = [];
    await assert.rejects(async () => {
      for await (const r of tailReceipts({ adminUrl: at('open'), token: 't',
        signal: controller.signal })) {
        seen.push(r.seq);
        setTimeout(() => controller.abort(), 20);
      }
    }, (e) => e.name === 'AbortError');
    assert.deepEqual(seen, [1]);
    for (let i = 0; i < 100 && closed < 2; i++) await sleep(10);
    assert.equal(closed, 2);
  });
});

