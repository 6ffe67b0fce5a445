// The official `openai` SDK against a real helm proxy. Defined once, run in
// both deployment modes (openai.embedded.test.mjs, openai.remote.test.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';

import {
  Stack, TestUpstream, admin, auditDataDir, findOutcome, runHelm, sha256Hex, sleep,
} from './harness.mjs';

const MODEL = 'gpt-4o-mini';
const UPSTREAM_TEXT = 'Hello from the test upstream.';
const HASH_COMMENT = /\n: helm-output-hash (sha256:[0-9a-f]{64})\n\n$/;

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
};
const SHELL_TOOL = {
  type: 'function',
  function: { name: 'shell_exec', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } },
};

// No SDK retries: each call is exactly one request, so the upstream's
// request log and the ledger can be checked exactly. `Connection: close`
// because helm's SIGTERM shutdown waits out idle keep-alive connections (up
// to the 30 s keep-alive timeout; see test_proxy.py
// test_sigterm_with_idle_keepalive_connection), and the audit below stops
// the servers.
function sdkClient(p, apiKey = p.key) {
  return new OpenAI({
    apiKey, baseURL: `${p.url}/v1`, maxRetries: 0, timeout: 20000, defaultHeaders: { Connection: 'close' },
  });
}

const user = (text) => [{ role: 'user', content: text }];

function helmHeaders(headers) {
  const out = {};
  for (const name of ['x-helm-decision-id', 'x-helm-receipt-id', 'x-helm-reason-code', 'x-helm-status',
    'x-helm-correlation-id', 'x-helm-output-hash', 'x-helm-lane', 'x-helm-model', 'x-helm-fallbacks',
    'x-helm-approval-id']) {
    out[name] = headers.get(name);
  }
  return out;
}

function assertAllowHeaders(h, model = MODEL) {
  assert.match(h['x-helm-decision-id'], /^dec_[0-9A-Z]{26}$/);
  assert.match(h['x-helm-receipt-id'], /^rcpt_[0-9A-Z]{26}$/);
  assert.equal(h['x-helm-status'], 'ALLOW');
  assert.equal(h['x-helm-reason-code'], '');
  assert.ok(h['x-helm-correlation-id'], 'X-Helm-Correlation-ID is set');
  assert.ok(h['x-helm-lane'], 'X-Helm-Lane is set');
  assert.equal(h['x-helm-model'], model);
  assert.match(h['x-helm-fallbacks'], /^\d+$/);
}

async function expectApiError(promise, ErrorClass) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err?.constructor?.name}: ${err}`);
    return err;
  }
  assert.fail(`expected ${ErrorClass.name}, the request succeeded`);
}

export function defineOpenAiSuite(mode) {
  describe(`openai SDK through helm (${mode})`, () => {
    const upstream = new TestUpstream();
    const stack = new Stack(mode);
    let px; // proxy to the scripted test upstream
    let mock; // proxy to the built-in mock:// provider
    let client;
    let mockClient;

    before(async () => {
      await upstream.start();
      px = await stack.addProxy(upstream.url);
      mock = await stack.addProxy('mock://');
      client = sdkClient(px);
      mockClient = sdkClient(mock);
    });

    after(async () => {
      await stack.stop();
      await upstream.stop();
      stack.cleanup();
    });

    it('non-streaming chat completion', async () => {
      await upstream.reset();
      const completion = await client.chat.completions.create({ model: MODEL, messages: user('hello there') });
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.role, 'assistant');
      assert.equal(completion.choices[0].message.content, UPSTREAM_TEXT);
      assert.equal(completion.choices[0].finish_reason, 'stop');
      assert.equal(completion.usage.total_tokens, 10);

      const seen = await upstream.requests();
      assert.equal(seen.length, 1);
      assert.equal(seen[0].path, '/v1/chat/completions');
      assert.deepEqual(seen[0].json.messages, user('hello there'));
      assert.equal(seen[0].json.model, MODEL);
      // The client's helm key is a helm credential: it never travels upstream.
      assert.ok(!JSON.stringify(seen[0].headers).includes(px.key), 'helm key forwarded upstream');
    });

    it('X-Helm headers via withResponse(), tied to signed receipts', async () => {
      const { data, response } = await client.chat.completions
        .create({ model: MODEL, messages: user('headers please') }, { headers: { 'X-Request-ID': 'sdk-req.42' } })
        .withResponse();
      assert.equal(data.choices[0].message.content, UPSTREAM_TEXT);
      assert.equal(response.status, 200);
      const h = helmHeaders(response.headers);
      assertAllowHeaders(h);
      assert.equal(h['x-helm-correlation-id'], 'sdk-req.42', 'a valid X-Request-ID is adopted');
      assert.match(h['x-helm-output-hash'], /^sha256:[0-9a-f]{64}$/);

      const { status, json: decision } = await admin(px, 'GET', `/api/v1/receipts/${h['x-helm-receipt-id']}`);
      assert.equal(status, 200);
      assert.equal(decision.kind, 'decision');
      assert.equal(decision.verdict, 'ALLOW');
      assert.equal(decision.decision_id, h['x-helm-decision-id']);
      assert.equal(decision.correlation_id, 'sdk-req.42');
      assert.equal(decision.principal.agent, 'root');
      assert.equal(decision.request.model, MODEL);

      const outcome = await findOutcome(px, h['x-helm-receipt-id']);
      assert.ok(outcome, 'outcome receipt exists');
      assert.equal(outcome.status, 'completed');
      assert.equal(outcome.decision_id, h['x-helm-decision-id']);
      assert.equal(outcome.output_hash, h['x-helm-output-hash']);
    });

    it('X-Helm-Output-Hash is the SHA-256 of the raw body bytes (asResponse)', async () => {
      const response = await client.chat.completions
        .create({ model: MODEL, messages: user('hash me') })
        .asResponse();
      assert.equal(response.status, 200);
      const bytes = Buffer.from(await response.arrayBuffer());
      assert.equal(response.headers.get('x-helm-output-hash'), `sha256:${sha256Hex(bytes)}`);
      assert.equal(JSON.parse(bytes.toString('utf8')).choices[0].message.content, UPSTREAM_TEXT);
    });

    it('streaming chat: deltas and X-Helm headers (withResponse)', async () => {
      await upstream.reset();
      const { data: stream, response } = await client.chat.completions
        .create({ model: MODEL, messages: user('stream please'), stream: true })
        .withResponse();
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type'), /^text\/event-stream/);
      const h = helmHeaders(response.headers);
      assertAllowHeaders(h);
      assert.equal(h['x-helm-output-hash'], null, 'a stream carries its hash in a trailing comment');
      let text = '';
      let chunks = 0;
      let finish = null;
      let role = null;
      for await (const chunk of stream) {
        chunks += 1;
        assert.equal(chunk.object, 'chat.completion.chunk');
        const choice = chunk.choices[0];
        if (!choice) continue;
        role ??= choice.delta.role ?? null;
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      assert.equal(role, 'assistant');
      assert.equal(text, UPSTREAM_TEXT);
      assert.equal(finish, 'stop');
      assert.ok(chunks >= 3, `several chunks (${chunks})`);
      const seen = await upstream.requests();
      assert.equal(seen.length, 1);
      assert.equal(seen[0].json.stream, true);

      const outcome = await findOutcome(px, h['x-helm-receipt-id']);
      assert.ok(outcome, 'outcome receipt exists');
      assert.equal(outcome.status, 'completed');
    });

    it('streaming usage chunk passes through (stream_options.include_usage)', async () => {
      const stream = await client.chat.completions.create({
        model: MODEL, messages: user('usage please'), stream: true, stream_options: { include_usage: true },
      });
      let usage = null;
      let text = '';
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      assert.equal(text, UPSTREAM_TEXT);
      assert.deepEqual(usage, { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
    });

    it('streaming output-hash comment equals the outcome receipt output_hash', async () => {
      const response = await client.chat.completions
        .create({ model: MODEL, messages: user('stream hash'), stream: true })
        .asResponse();
      assert.equal(response.status, 200);
      const raw = Buffer.from(await response.arrayBuffer()).toString('utf8');
      const m = HASH_COMMENT.exec(raw);
      assert.ok(m, `stream ends with the hash comment: ${JSON.stringify(raw.slice(-120))}`);
      const streamHash = m[1];
      // The hash covers every byte sent before the comment line.
      const before = raw.slice(0, m.index + 1);
      assert.ok(before.endsWith('data: [DONE]\n\n'), 'the comment follows [DONE]');
      assert.equal(streamHash, `sha256:${sha256Hex(Buffer.from(before, 'utf8'))}`);

      const receiptId = response.headers.get('x-helm-receipt-id');
      const outcome = await findOutcome(px, receiptId);
      assert.ok(outcome, 'outcome receipt exists');
      assert.equal(outcome.parent, receiptId);
      assert.equal(outcome.kind, 'outcome');
      assert.equal(outcome.status, 'completed');
      assert.equal(outcome.output_hash, streamHash);
    });

    // Regression: a stream cut inside an SSE event got helm's error frame glued
    // onto the partial line, which the SDK threw as a SyntaxError.
    it('a stream cut inside an event is an APIError after the whole events, outcome truncated', async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: MODEL, messages: user('cut me [upstream:cut events=2 bytes=40]'), stream: true })
        .withResponse();
      assert.equal(response.status, 200);
      let text = '';
      const err = await (async () => {
        try {
          for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        } catch (e) {
          return e;
        }
        return null;
      })();
      assert.ok(err instanceof OpenAI.APIError, `an APIError, not ${err?.constructor?.name}: ${err}`);
      assert.match(err.message, /UPSTREAM_STREAM_BROKEN/);
      assert.equal(text, UPSTREAM_TEXT.split(' ')[0], 'the events before the cut, whole');
      const outcome = await findOutcome(px, response.headers.get('x-helm-receipt-id'));
      assert.equal(outcome.status, 'truncated');
    });

    it('tools: the SDK request reaches the upstream unchanged', async () => {
      await upstream.reset();
      const params = { model: MODEL, messages: user('weather in Paris?'), tools: [WEATHER_TOOL], tool_choice: 'auto' };
      const completion = await client.chat.completions.create(params);
      assert.equal(completion.choices[0].message.content, UPSTREAM_TEXT);
      const seen = await upstream.requests();
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0].json, params);
    });

    it('tools: a tool call comes back (mock://), and the tool result finishes the loop', async () => {
      const messages = user('weather in Paris?');
      const { data: completion, response } = await mockClient.chat.completions
        .create({ model: 'mock-1', messages, tools: [WEATHER_TOOL] })
        .withResponse();
      assertAllowHeaders(helmHeaders(response.headers), 'mock-1');
      const choice = completion.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, null);
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0];
      assert.equal(call.type, 'function');
      assert.match(call.id, /^call_mock_[0-9a-f]+$/);
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock', days: 0 });

      const followUp = await mockClient.chat.completions.create({
        model: 'mock-1',
        tools: [WEATHER_TOOL],
        messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }],
      });
      assert.equal(followUp.choices[0].finish_reason, 'stop');
      assert.equal(followUp.choices[0].message.content, 'Tool result: sunny');
    });

    it('tools: a streamed tool call is reassembled by the SDK stream helper (mock://)', async () => {
      const runner = mockClient.chat.completions.stream({
        model: 'mock-1', messages: user('weather in Oslo? [mock:chunks=4]'), tools: [WEATHER_TOOL],
      });
      const final = await runner.finalChatCompletion();
      const call = final.choices[0].message.tool_calls[0];
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock', days: 0 });
    });

    it('embeddings (test upstream, float format)', async () => {
      await upstream.reset();
      const { data: res, response } = await client.embeddings
        .create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-helm-status'), 'ALLOW');
      assert.equal(res.data.length, 2);
      assert.equal(res.data[0].embedding.length, 8);
      assert.equal(res.data[0].embedding[0], 0.125);
      assert.equal(res.data[1].embedding[0], -0.125);
      const seen = await upstream.requests();
      assert.equal(seen.length, 1);
      assert.equal(seen[0].path, '/v1/embeddings');
      assert.deepEqual(seen[0].json.input, ['alpha', 'beta']);
    });

    it('embeddings with the SDK defaults (mock://)', async () => {
      const res = await mockClient.embeddings.create({ model: 'mock-embedding', input: 'hello world' });
      assert.equal(res.data.length, 1);
      const v = Array.from(res.data[0].embedding);
      assert.ok(v.length > 0);
      assert.ok(v.every((x) => Number.isFinite(x)));
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-3, `unit vector (norm ${norm})`);
    });

    it('models list includes "auto"; retrieve("auto")', async () => {
      const ids = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert.ok(ids.includes('auto'), `models: ${ids}`);
      const auto = await client.models.retrieve('auto');
      assert.equal(auto.id, 'auto');
      assert.equal(auto.object, 'model');
    });

    it('DENY surfaces as PermissionDeniedError (403, FORBIDDEN_CONTENT); nothing dispatched', async () => {
      await upstream.reset();
      const err = await expectApiError(
        client.chat.completions.create({ model: MODEL, messages: user('please say the forbidden-word now') }),
        OpenAI.PermissionDeniedError);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'FORBIDDEN_CONTENT');
      assert.equal(typeof err.error.message, 'string');
      assert.equal(err.error.helm.reason_code, 'FORBIDDEN_CONTENT');
      assert.match(err.error.helm.decision_id, /^dec_/);
      assert.match(err.error.helm.receipt_id, /^rcpt_/);
      assert.equal(err.headers.get('x-helm-status'), 'DENY');
      assert.equal(err.headers.get('x-helm-reason-code'), 'FORBIDDEN_CONTENT');
      assert.equal(err.headers.get('x-helm-receipt-id'), err.error.helm.receipt_id);

      const { json: receipt } = await admin(px, 'GET', `/api/v1/receipts/${err.error.helm.receipt_id}`);
      assert.equal(receipt.verdict, 'DENY');
      assert.equal(receipt.reason_code, 'FORBIDDEN_CONTENT');
      assert.deepEqual(await upstream.requests(), []);
    });

    it('DENY of a streaming request is a 403 before any stream opens', async () => {
      await upstream.reset();
      const err = await expectApiError(
        client.chat.completions.create({ model: MODEL, messages: user('FORBIDDEN-WORD'), stream: true }),
        OpenAI.PermissionDeniedError);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'FORBIDDEN_CONTENT');
      assert.deepEqual(await upstream.requests(), []);
    });

    it('a wrong key is an AuthenticationError (401); nothing dispatched', async () => {
      await upstream.reset();
      const bad = sdkClient(px, 'hk_not-a-real-key');
      const err = await expectApiError(
        bad.chat.completions.create({ model: MODEL, messages: user('hello') }), OpenAI.AuthenticationError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 'UNAUTHENTICATED');
      await expectApiError(bad.models.list(), OpenAI.AuthenticationError);
      assert.deepEqual(await upstream.requests(), []);
    });

    it('ESCALATE end to end: 403 → approve (CLI) → re-send 200 once → 403', async () => {
      await upstream.reset();
      const params = { model: MODEL, messages: user('clean up the temp dir'), tools: [SHELL_TOOL] };
      const err = await expectApiError(client.chat.completions.create(params), OpenAI.PermissionDeniedError);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'TOOL_REQUIRES_APPROVAL');
      const approvalId = err.error.helm.approval_id;
      assert.match(approvalId, /^apr_/);
      assert.equal(err.headers.get('x-helm-approval-id'), approvalId);
      assert.equal(err.headers.get('x-helm-status'), 'ESCALATE');

      const withApproval = { headers: { 'X-Helm-Approval': approvalId } };
      // Not approved yet: still refused.
      const pending = await expectApiError(client.chat.completions.create(params, withApproval),
        OpenAI.PermissionDeniedError);
      assert.equal(pending.status, 403);

      const { json: listed } = await admin(px, 'GET', '/api/v1/approvals');
      assert.ok(listed.approvals.some((a) => a.id === approvalId), 'the approval is listed');

      const approve = runHelm(['approvals', 'approve', approvalId, '--server', px.adminUrl, '--data-dir', px.dataDir]);
      assert.equal(approve.code, 0, `helm approvals approve: ${approve.stderr}${approve.stdout}`);

      // The approval is bound to the request: another body does not get through.
      const other = await expectApiError(
        client.chat.completions.create({ ...params, messages: user('rm -rf /') }, withApproval),
        OpenAI.PermissionDeniedError);
      assert.equal(other.status, 403);
      assert.deepEqual(await upstream.requests(), []);

      const { data, response } = await client.chat.completions.create(params, withApproval).withResponse();
      assert.equal(response.status, 200);
      assert.equal(data.choices[0].message.content, UPSTREAM_TEXT);
      assert.equal(response.headers.get('x-helm-status'), 'ALLOW');
      const { json: decision } = await admin(px, 'GET', `/api/v1/receipts/${response.headers.get('x-helm-receipt-id')}`);
      assert.equal(decision.approval_id, approvalId);
      assert.equal((await upstream.requests()).length, 1);

      // Single use.
      const again = await expectApiError(client.chat.completions.create(params, withApproval),
        OpenAI.PermissionDeniedError);
      assert.equal(again.status, 403);
      assert.equal((await upstream.requests()).length, 1);
    });

    it('after stopping: receipts verify, every ALLOW has one outcome, DENY/ESCALATE none', async () => {
      await sleep(100); // let the last outcomes seal
      await stack.stop();
      assert.equal(stack.boundaries.length, mode === 'embedded' ? 2 : 1);
      for (const b of stack.boundaries) {
        const audit = auditDataDir(b.dataDir);
        assert.equal(audit.verify.code, 0, `helm receipts verify: ${audit.verify.stdout}${audit.verify.stderr}`);
        assert.deepEqual(audit.problems, []);
        assert.ok(audit.decisions.length > 0);
        const verdicts = new Set(audit.decisions.map((d) => d.verdict));
        assert.ok(verdicts.has('ALLOW'));
        for (const o of audit.outcomes) assert.match(o.output_hash ?? '', /^sha256:[0-9a-f]{64}$/);
      }
      const main = auditDataDir(stack.boundaries[0].dataDir);
      const verdicts = new Set(main.decisions.map((d) => d.verdict));
      assert.ok(verdicts.has('DENY') && verdicts.has('ESCALATE'), [...verdicts].join(','));
    });
  });
}
