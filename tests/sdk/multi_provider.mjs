// A helm proxy with one provider of each kind (openai, anthropic, gemini), all
// pointing at one scripted test upstream (it serves the three wire formats
// on their own paths), and one lane per kind so a client pins a provider
// kind by sending the lane name as its model. Used by the SDK tests of the
// Anthropic, Gemini and Responses doors.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { Child, HELM, Stack, TEST_POLICY, TestUpstream, auditDataDir } from './harness.mjs';

export const PROVIDER_KINDS = ['openai', 'anthropic', 'gemini'];
export const LANE = { openai: 'to-openai', anthropic: 'to-anthropic', gemini: 'to-gemini' };
export const PROVIDER_ID = { openai: 'oa', anthropic: 'an', gemini: 'gm' };
export const UPSTREAM_MODEL = { openai: 'gpt-upstream', anthropic: 'claude-upstream', gemini: 'gemini-upstream' };
export const PROVIDER_KEY = {
  openai: 'pk-openai-sdk-test', anthropic: 'pk-anthropic-sdk-test', gemini: 'pk-gemini-sdk-test',
};
export const UPSTREAM_TEXT = 'Hello from the test upstream.';

export const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
};

function helmToml(upstreamUrl) {
  let out = '';
  for (const kind of PROVIDER_KINDS) {
    out += `
[[providers]]
id = "${PROVIDER_ID[kind]}"
kind = "${kind}"
base_url = "${upstreamUrl}"
api_key_env = "HELM_SDK_${kind.toUpperCase()}_KEY"

[[providers.models]]
id = "m"
upstream_id = "${UPSTREAM_MODEL[kind]}"
context_window = 200000
tools = true
vision = true
json = true
`;
  }
  out += `
[lanes.balanced]
primary = "oa/m"

[lanes.to-openai]
primary = "oa/m"

[lanes.to-anthropic]
primary = "an/m"

[lanes.to-gemini]
primary = "gm/m"
`;
  return out;
}

const PROXY_RE = /helm proxy: listening on http:\/\/127\.0\.0\.1:(\d+)/;
const ADMIN_RE = /helm proxy: boundary admin API on http:\/\/127\.0\.0\.1:(\d+)/;

// Starts the upstream and the proxy. Returns {upstream, proxy: {url, adminUrl,
// dataDir, key, token, child}, stop(), audit()}.
export async function startMultiProvider(policy = TEST_POLICY) {
  const upstream = await new TestUpstream().start();
  const stack = new Stack('embedded', policy);
  const dataDir = Stack.newDataDir();
  const config = path.join(dataDir, 'helm.toml');
  writeFileSync(config, helmToml(upstream.url));
  const env = {};
  for (const kind of PROVIDER_KINDS) env[`HELM_SDK_${kind.toUpperCase()}_KEY`] = PROVIDER_KEY[kind];
  const child = new Child('helm proxy', HELM,
    ['proxy', '--config', config, '--policy', policy, '--data-dir', dataDir,
      '--port', '0', '--admin-port', '0', '--checkpoint-seconds', '0'], 'stderr', env);
  const [port, adminPort] = await child.waitFor([PROXY_RE, ADMIN_RE]);
  const b = { dataDir, adminUrl: `http://127.0.0.1:${adminPort}`, child };
  stack.boundaries.push(b);
  const proxy = { url: `http://127.0.0.1:${port}`, child, ...stack.creds(b) };
  stack.proxies.push(proxy);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stack.stop();
    await upstream.stop();
  };
  return {
    upstream,
    proxy,
    stop,
    // Stops everything, verifies the ledger and its decision/outcome pairing.
    async audit() {
      await stop();
      const result = auditDataDir(dataDir);
      stack.cleanup();
      return result;
    },
    cleanup() {
      stack.cleanup();
    },
  };
}

// The one request the upstream saw since the last reset, checked to be in
// the provider's own format, with the provider's key (never the helm key)
// and the upstream model.
export async function upstreamRequest(env, kind, { stream = false } = {}) {
  const reqs = await env.upstream.requests();
  assert.equal(reqs.length, 1, `one upstream request: ${JSON.stringify(reqs.map((r) => r.path))}`);
  const r = reqs[0];
  assert.equal(r.format, kind);
  assert.equal(r.api_key, PROVIDER_KEY[kind], 'the provider key reached the upstream');
  assert.ok(!JSON.stringify(r).includes(env.proxy.key), 'the helm key never reaches the upstream');
  const p = r.path.split('?')[0];
  if (kind === 'openai') {
    assert.equal(p, '/v1/chat/completions');
    assert.equal(r.json.model, UPSTREAM_MODEL.openai);
    assert.equal(Boolean(r.json.stream), stream);
  } else if (kind === 'anthropic') {
    assert.equal(p, '/v1/messages');
    assert.equal(r.json.model, UPSTREAM_MODEL.anthropic);
    assert.equal(Boolean(r.json.stream), stream);
    assert.ok(r.headers['anthropic-version']);
  } else {
    assert.equal(p, `/v1beta/models/${UPSTREAM_MODEL.gemini}:${stream ? 'streamGenerateContent' : 'generateContent'}`);
    assert.ok(Array.isArray(r.json.contents));
  }
  return r;
}
