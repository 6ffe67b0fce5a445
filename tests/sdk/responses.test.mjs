// The official openai SDK's Responses API against helm's /v1/responses door,
// pinned to each provider kind behind it (all translated: no provider kind
// speaks Responses).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';

import {
  LANE, PROVIDER_ID, PROVIDER_KINDS, UPSTREAM_TEXT, WEATHER_SCHEMA, startMultiProvider, upstreamRequest,
} from './multi_provider.mjs';

const TOOLS = [{ type: 'function', name: 'get_weather', description: 'current weather', parameters: WEATHER_SCHEMA, strict: false }];

// The text of a Response's message items. (The SDK's finalResponse() sets no
// `output_text` convenience field unless the request had parseable formats.)
const outputText = (res) => res.output.filter((o) => o.type === 'message')
  .flatMap((o) => o.content).filter((c) => c.type === 'output_text').map((c) => c.text).join('');

describe('openai SDK responses through helm', () => {
  let env;
  let client;

  before(async () => {
    env = await startMultiProvider();
    client = new OpenAI({
      apiKey: env.proxy.key, baseURL: `${env.proxy.url}/v1`, maxRetries: 0, timeout: 20000,
      defaultHeaders: { Connection: 'close' },
    });
  });

  after(async () => {
    if (!env) return;
    const audit = await env.audit();
    assert.equal(audit.verify.code, 0, audit.verify.stdout + audit.verify.stderr);
    assert.deepEqual(audit.problems, []);
  });

  beforeEach(async () => {
    await env.upstream.reset();
  });

  for (const kind of PROVIDER_KINDS) {
    describe(`${kind} provider`, () => {
      const model = LANE[kind];

      it('responses.create', async () => {
        const { data: res, response } = await client.responses.create({
          model, instructions: 'Be brief.', input: 'Say hello.', store: false,
        }).withResponse();
        assert.equal(response.headers.get('x-helm-status'), 'ALLOW');
        assert.equal(response.headers.get('x-helm-model'), `${PROVIDER_ID[kind]}/m`);
        assert.equal(res.object, 'response');
        assert.equal(res.status, 'completed');
        assert.equal(res.output_text, UPSTREAM_TEXT);
        assert.equal(res.output.length, 1);
        assert.equal(res.output[0].type, 'message');
        assert.equal(res.usage.input_tokens, 5);
        assert.equal(res.usage.output_tokens, 5);
        assert.equal(res.usage.total_tokens, 10);
        const r = await upstreamRequest(env, kind);
        assert.ok(r.body.includes('Be brief.'), 'instructions reached the upstream');
      });

      it('responses.create stream: events in order, sequence_number monotonic', async () => {
        const stream = await client.responses.create({ model, input: 'Say hello.', stream: true, store: false });
        const types = [];
        const seqs = [];
        let text = '';
        let final;
        for await (const ev of stream) {
          types.push(ev.type);
          seqs.push(ev.sequence_number);
          if (ev.type === 'response.output_text.delta') text += ev.delta;
          if (ev.type === 'response.completed') final = ev.response;
        }
        assert.deepEqual(types.slice(0, 2), ['response.created', 'response.in_progress']);
        assert.equal(types.at(-1), 'response.completed');
        assert.deepEqual(seqs, seqs.map((_, i) => i));
        assert.equal(text, UPSTREAM_TEXT);
        assert.equal(final.usage.total_tokens, 10);
        await upstreamRequest(env, kind, { stream: true });
      });

      it('responses.stream helper: finalResponse()', async () => {
        const deltas = [];
        const stream = client.responses.stream({ model, input: 'Say hello.', store: false });
        stream.on('response.output_text.delta', (ev) => deltas.push(ev.delta));
        const res = await stream.finalResponse();
        assert.ok(deltas.length > 1);
        assert.equal(deltas.join(''), UPSTREAM_TEXT);
        assert.equal(outputText(res), UPSTREAM_TEXT);
        assert.equal(res.status, 'completed');
        assert.equal(res.usage.total_tokens, 10);
        await upstreamRequest(env, kind, { stream: true });
      });

      for (const streaming of [false, true]) {
        it(`function call round trip (${streaming ? 'stream' : 'non-stream'})`, async () => {
          const input = [{ role: 'user', content: 'Weather in Paris? [upstream:tool]' }];
          const ask = () => (streaming
            ? client.responses.stream({ model, input, tools: TOOLS, store: false }).finalResponse()
            : client.responses.create({ model, input, tools: TOOLS, store: false }));
          const first = await ask();
          const calls = first.output.filter((o) => o.type === 'function_call');
          assert.equal(calls.length, 1, JSON.stringify(first.output));
          assert.equal(calls[0].name, 'get_weather');
          assert.deepEqual(JSON.parse(calls[0].arguments), { city: 'test' });
          assert.ok(calls[0].call_id);
          await upstreamRequest(env, kind, { stream: streaming });

          await env.upstream.reset();
          input.push({ type: 'function_call', call_id: calls[0].call_id, name: calls[0].name, arguments: calls[0].arguments });
          input.push({ type: 'function_call_output', call_id: calls[0].call_id, output: 'sunny, 21C' });
          const second = await ask();
          assert.equal(outputText(second), UPSTREAM_TEXT);
          const r = await upstreamRequest(env, kind, { stream: streaming });
          assert.ok(r.body.includes('sunny, 21C'), 'the tool output reached the upstream');
        });
      }

      it('provider 400 → BadRequestError; provider 500 → 502 InternalServerError', async () => {
        await assert.rejects(
          client.responses.create({ model, input: 'x [upstream:400]', store: false }),
          (err) => err instanceof OpenAI.BadRequestError && err.status === 400,
        );
        await assert.rejects(
          (async () => {
            for await (const _ of await client.responses.create({ model, input: 'x [upstream:500]', stream: true, store: false })) { /* drain */ }
          })(),
          (err) => err instanceof OpenAI.InternalServerError && err.status === 502,
        );
      });
    });
  }
});
