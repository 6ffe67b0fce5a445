// The official @google/genai SDK against helm's Gemini door
// (/v1beta/models/{model}:generateContent and :streamGenerateContent), with
// httpOptions.baseUrl pointing at the proxy and the helm key as apiKey,
// pinned to each provider kind: gemini (forwarded as is), openai and
// anthropic (translated).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApiError, GoogleGenAI } from '@google/genai';

import {
  LANE, PROVIDER_ID, PROVIDER_KINDS, UPSTREAM_TEXT, WEATHER_SCHEMA, startMultiProvider, upstreamRequest,
} from './multi_provider.mjs';

const TOOLS = [{ functionDeclarations: [{ name: 'get_weather', description: 'current weather', parameters: WEATHER_SCHEMA }] }];

describe('@google/genai through helm', () => {
  let env;
  let ai;

  before(async () => {
    env = await startMultiProvider();
    ai = new GoogleGenAI({
      apiKey: env.proxy.key,
      httpOptions: { baseUrl: env.proxy.url, timeout: 20000, headers: { Connection: 'close' } },
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

      it('models.generateContent', async () => {
        const res = await ai.models.generateContent({
          model, contents: 'Say hello.', config: { systemInstruction: 'Be brief.' },
        });
        assert.equal(res.text, UPSTREAM_TEXT);
        assert.equal(res.candidates.length, 1);
        assert.equal(res.candidates[0].finishReason, 'STOP');
        assert.equal(res.usageMetadata.promptTokenCount, 5);
        assert.equal(res.usageMetadata.candidatesTokenCount, 5);
        assert.equal(res.usageMetadata.totalTokenCount, 10);
        assert.equal(res.sdkHttpResponse.headers['x-helm-status'], 'ALLOW');
        assert.equal(res.sdkHttpResponse.headers['x-helm-model'], `${PROVIDER_ID[kind]}/m`);
        const r = await upstreamRequest(env, kind);
        assert.ok(r.body.includes('Be brief.'), 'the system instruction reached the upstream');
      });

      it('models.generateContentStream', async () => {
        const pieces = [];
        let last;
        for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Say hello.' })) {
          if (chunk.text) pieces.push(chunk.text);
          last = chunk;
        }
        assert.ok(pieces.length > 1, `text arrives in increments: ${JSON.stringify(pieces)}`);
        assert.equal(pieces.join(''), UPSTREAM_TEXT);
        assert.equal(last.candidates[0].finishReason, 'STOP');
        assert.equal(last.usageMetadata.promptTokenCount, 5);
        assert.equal(last.usageMetadata.candidatesTokenCount, 5);
        await upstreamRequest(env, kind, { stream: true });
      });

      for (const streaming of [false, true]) {
        it(`function call round trip (${streaming ? 'stream' : 'non-stream'})`, async () => {
          const contents = [{ role: 'user', parts: [{ text: 'Weather in Paris? [upstream:tool]' }] }];
          const call = async () => {
            if (!streaming) return ai.models.generateContent({ model, contents, config: { tools: TOOLS } });
            let merged = null;
            const calls = [];
            for await (const chunk of await ai.models.generateContentStream({ model, contents, config: { tools: TOOLS } })) {
              calls.push(...(chunk.functionCalls ?? []));
              merged = chunk;
            }
            return { functionCalls: calls, last: merged };
          };
          const first = await call();
          assert.equal(first.functionCalls.length, 1, JSON.stringify(first));
          assert.equal(first.functionCalls[0].name, 'get_weather');
          assert.deepEqual(first.functionCalls[0].args, { city: 'test' });
          await upstreamRequest(env, kind, { stream: streaming });

          await env.upstream.reset();
          contents.push({ role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'test' } } }] });
          contents.push({
            role: 'user',
            parts: [{ functionResponse: { name: 'get_weather', response: { forecast: 'sunny, 21C' } } }],
          });
          const second = streaming
            ? await (async () => {
              let text = '';
              for await (const chunk of await ai.models.generateContentStream({ model, contents, config: { tools: TOOLS } })) {
                text += chunk.text ?? '';
              }
              return { text };
            })()
            : await ai.models.generateContent({ model, contents, config: { tools: TOOLS } });
          assert.equal(second.text, UPSTREAM_TEXT);
          const r = await upstreamRequest(env, kind, { stream: streaming });
          assert.ok(r.body.includes('sunny, 21C'), 'the function response reached the upstream');
        });
      }

      it('JSON output (responseMimeType + responseSchema)', async () => {
        await fetch(`${env.upstream.url}/__script`, {
          method: 'POST', headers: { Connection: 'close' },
          body: JSON.stringify([{ behaviour: 'json', text: '{"ok": true}' }]),
        });
        const res = await ai.models.generateContent({
          model, contents: 'Answer in JSON.',
          config: {
            responseMimeType: 'application/json',
            responseSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
          },
        });
        assert.deepEqual(JSON.parse(res.text), { ok: true });
        await upstreamRequest(env, kind);
      });

      it('provider 400 → ApiError 400; provider 500 → ApiError 502', async () => {
        await assert.rejects(
          ai.models.generateContent({ model, contents: 'x [upstream:400]' }),
          (err) => err instanceof ApiError && err.status === 400,
        );
        await assert.rejects(
          (async () => {
            for await (const _ of await ai.models.generateContentStream({ model, contents: 'x [upstream:500]' })) { /* drain */ }
          })(),
          (err) => err instanceof ApiError && err.status === 502,
        );
      });
    });
  }
});
