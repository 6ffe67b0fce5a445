// The official @anthropic-ai/sdk against helm's Anthropic Messages door
// (POST /v1/messages), pinned to each provider kind behind it: anthropic
// (forwarded as is), openai and gemini (translated). The SDK must parse every
// answer and stream without complaint.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';

import {
  LANE, PROVIDER_ID, PROVIDER_KINDS, UPSTREAM_TEXT, WEATHER_SCHEMA, startMultiProvider, upstreamRequest,
} from './multi_provider.mjs';

const TOOLS = [{ name: 'get_weather', description: 'current weather for a city', input_schema: WEATHER_SCHEMA }];

describe('@anthropic-ai/sdk through helm', () => {
  let env;
  let client;

  before(async () => {
    env = await startMultiProvider();
    // No retries (one call, one request); Connection: close so shutdown is prompt.
    client = new Anthropic({
      apiKey: env.proxy.key, baseURL: env.proxy.url, maxRetries: 0, timeout: 20000,
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

      it('messages.create', async () => {
        const { data: msg, response } = await client.messages.create({
          model, max_tokens: 256, system: 'Be brief.',
          messages: [{ role: 'user', content: 'Say hello.' }],
        }).withResponse();
        assert.equal(response.headers.get('x-helm-status'), 'ALLOW');
        assert.equal(response.headers.get('x-helm-model'), `${PROVIDER_ID[kind]}/m`);
        assert.equal(msg.type, 'message');
        assert.equal(msg.role, 'assistant');
        assert.equal(msg.content.length, 1);
        assert.equal(msg.content[0].type, 'text');
        assert.equal(msg.content[0].text, UPSTREAM_TEXT);
        assert.equal(msg.stop_reason, 'end_turn');
        assert.equal(msg.usage.input_tokens, 5);
        assert.equal(msg.usage.output_tokens, 5);
        const r = await upstreamRequest(env, kind);
        assert.ok(r.body.includes('Be brief.'), 'the system prompt reached the upstream');
      });

      it('messages.stream: on("text") and finalMessage()', async () => {
        const deltas = [];
        const events = [];
        const stream = client.messages.stream({
          model, max_tokens: 256, messages: [{ role: 'user', content: 'Say hello.' }],
        });
        stream.on('text', (delta) => deltas.push(delta));
        stream.on('streamEvent', (ev) => events.push(ev.type));
        const msg = await stream.finalMessage();
        assert.ok(deltas.length > 1, `text arrives in pieces: ${JSON.stringify(deltas)}`);
        assert.equal(deltas.join(''), UPSTREAM_TEXT);
        assert.equal(msg.content.length, 1);
        assert.equal(msg.content[0].text, UPSTREAM_TEXT);
        assert.equal(msg.stop_reason, 'end_turn');
        assert.equal(msg.usage.output_tokens, 5);
        assert.equal(events[0], 'message_start');
        assert.equal(events.at(-1), 'message_stop');
        await upstreamRequest(env, kind, { stream: true });
      });

      for (const streaming of [false, true]) {
        it(`tool use round trip (${streaming ? 'stream' : 'non-stream'})`, async () => {
          const messages = [{ role: 'user', content: 'Weather in Paris? [upstream:tool]' }];
          const first = streaming
            ? await client.messages.stream({ model, max_tokens: 256, tools: TOOLS, messages }).finalMessage()
            : await client.messages.create({ model, max_tokens: 256, tools: TOOLS, messages });
          assert.equal(first.stop_reason, 'tool_use');
          const uses = first.content.filter((b) => b.type === 'tool_use');
          assert.equal(uses.length, 1, JSON.stringify(first.content));
          assert.equal(uses[0].name, 'get_weather');
          assert.deepEqual(uses[0].input, { city: 'test' });
          assert.ok(uses[0].id);
          await upstreamRequest(env, kind, { stream: streaming });

          await env.upstream.reset();
          messages.push({ role: 'assistant', content: first.content });
          messages.push({
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: uses[0].id, content: 'sunny, 21C' }],
          });
          const second = streaming
            ? await client.messages.stream({ model, max_tokens: 256, tools: TOOLS, messages }).finalMessage()
            : await client.messages.create({ model, max_tokens: 256, tools: TOOLS, messages });
          assert.equal(second.stop_reason, 'end_turn');
          assert.equal(second.content.map((b) => b.text).join(''), UPSTREAM_TEXT);
          const r = await upstreamRequest(env, kind, { stream: streaming });
          assert.ok(r.body.includes('sunny, 21C'), 'the tool result reached the upstream');
        });
      }

      it('provider 400 → BadRequestError; provider 500 → 502 InternalServerError', async () => {
        await assert.rejects(
          client.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'x [upstream:400]' }] }),
          (err) => err instanceof Anthropic.BadRequestError && err.status === 400
            && err.error?.type === 'error' && err.error?.error?.type === 'invalid_request_error',
        );
        await assert.rejects(
          client.messages.stream({ model, max_tokens: 64, messages: [{ role: 'user', content: 'x [upstream:500]' }] })
            .finalMessage(),
          (err) => err instanceof Anthropic.InternalServerError && err.status === 502,
        );
      });
    });
  }
});
