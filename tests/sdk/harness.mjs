// Test harness for the SDK conformance tests: starts the scripted test
// upstream and the real helm binary (embedded: `helm proxy --policy`; remote:
// `helm serve` + `helm proxy --boundary`) on loopback ports chosen by the
// kernel, each with a fresh data dir, and talks to the admin API.
//
// HELM_BIN names the helm binary (ctest sets it); without it, build/helm in
// the source tree is used.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELM = process.env.HELM_BIN || path.join(SOURCE_DIR, 'build', 'helm');
export const TEST_POLICY = path.join(SOURCE_DIR, 'policies', 'test.toml');
const TEST_UPSTREAM = path.join(SOURCE_DIR, 'scripts', 'test_upstream.py');
const PYTHON = process.env.PYTHON || 'python3';

if (!existsSync(HELM)) throw new Error(`helm binary not found at ${HELM} (set HELM_BIN)`);

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function sha256Hex(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

// A child process whose output is watched line by line until every pattern in
// `waitFor` has matched; resolves with the first capture group of each.
// `env` (optional) is merged over this process's environment.
export class Child {
  constructor(name, cmd, args, stream, env = undefined) {
    this.name = name;
    this.log = [];
    this.proc = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: env === undefined ? process.env : { ...process.env, ...env },
    });
    children.add(this.proc);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    this.exited.then(() => children.delete(this.proc));
    this.watched = this.proc[stream];
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    // Drain the other stream so the child never blocks on a full pipe.
    this.proc[stream === 'stdout' ? 'stderr' : 'stdout'].on('data', (d) => this.log.push(d));
  }

  waitFor(patterns, timeoutMs = 20000) {
    return new Promise((resolve, reject) => {
      const found = new Array(patterns.length).fill(null);
      let buf = '';
      const timer = setTimeout(() => fail(new Error(`${this.name} did not start in time`)), timeoutMs);
      const fail = (err) => {
        clearTimeout(timer);
        this.watched.off('data', onData);
        reject(new Error(`${err.message}\n--- ${this.name} output ---\n${this.log.join('')}${buf}`));
      };
      const onData = (chunk) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          this.log.push(line + '\n');
          patterns.forEach((re, i) => {
            const m = found[i] === null && re.exec(line);
            if (m) found[i] = m[1];
          });
          if (found.every((v) => v !== null)) {
            clearTimeout(timer);
            // Keep draining (and logging) after start-up.
            this.watched.off('data', onData);
            this.watched.on('data', (d) => this.log.push(d));
            resolve(found);
            return;
          }
        }
      };
      this.watched.on('data', onData);
      this.exited.then(({ code, sig }) => fail(new Error(`${this.name} exited (${code ?? sig})`)));
    });
  }

  async stop(signal = 'SIGTERM') {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

// scripts/test_upstream.py: records every request; misbehaves on demand.
export class TestUpstream {
  async start() {
    this.child = new Child('test_upstream', PYTHON, [TEST_UPSTREAM, '--port', '0'], 'stdout');
    const [port] = await this.child.waitFor([/^LISTENING (\d+)/]);
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }
  async requests() {
    const res = await fetch(`${this.url}/__requests`, { headers: { Connection: 'close' } });
    return res.json();
  }
  async reset() {
    await fetch(`${this.url}/__reset`, { method: 'POST', headers: { Connection: 'close' } });
  }
  stop() {
    return this.child?.stop();
  }
}

const PROXY_RE = /helm proxy: listening on http:\/\/127\.0\.0\.1:(\d+)/;
const ADMIN_RE = /helm proxy: boundary admin API on http:\/\/127\.0\.0\.1:(\d+)/;
const SERVE_RE = /helm serve: boundary listening on http:\/\/127\.0\.0\.1:(\d+)/;

// One boundary (one data dir, one ledger) and the proxies in front of it.
// mode "embedded": each proxy embeds its own boundary, so each proxy has its
// own data dir; mode "remote": one `helm serve`, every proxy asks it.
export class Stack {
  constructor(mode, policy = TEST_POLICY) {
    if (mode !== 'embedded' && mode !== 'remote') throw new Error(`unknown mode ${mode}`);
    this.mode = mode;
    this.policy = policy;
    this.boundaries = []; // [{dataDir, adminUrl, child?}]
    this.proxies = [];
  }

  static newDataDir() {
    return mkdtempSync(path.join(tmpdir(), 'helm-sdk-'));
  }

  async startServe() {
    const dataDir = Stack.newDataDir();
    const child = new Child('helm serve', HELM,
      ['serve', '--policy', this.policy, '--data-dir', dataDir, '--port', '0'], 'stderr');
    const [port] = await child.waitFor([SERVE_RE]);
    const b = { dataDir, adminUrl: `http://127.0.0.1:${port}`, child };
    this.boundaries.push(b);
    return b;
  }

  // Starts a proxy to `upstream` and returns a handle:
  // {url, adminUrl, dataDir, key, token, child}.
  async addProxy(upstream, extraArgs = []) {
    let b;
    let child;
    if (this.mode === 'remote') {
      b = this.boundaries[0] ?? (await this.startServe());
      child = new Child('helm proxy', HELM,
        ['proxy', '--upstream', upstream, '--boundary', b.adminUrl, '--data-dir', b.dataDir,
          '--port', '0', ...extraArgs], 'stderr');
      const [port] = await child.waitFor([PROXY_RE]);
      const p = { url: `http://127.0.0.1:${port}`, child, ...this.creds(b) };
      this.proxies.push(p);
      return p;
    }
    const dataDir = Stack.newDataDir();
    child = new Child('helm proxy', HELM,
      ['proxy', '--upstream', upstream, '--policy', this.policy, '--data-dir', dataDir,
        '--port', '0', '--admin-port', '0', ...extraArgs], 'stderr');
    const [port, adminPort] = await child.waitFor([PROXY_RE, ADMIN_RE]);
    b = { dataDir, adminUrl: `http://127.0.0.1:${adminPort}`, child };
    this.boundaries.push(b);
    const p = { url: `http://127.0.0.1:${port}`, child, ...this.creds(b) };
    this.proxies.push(p);
    return p;
  }

  creds(b) {
    const read = (f) => readFileSync(path.join(b.dataDir, 'keys', f), 'utf8').trim();
    return { dataDir: b.dataDir, adminUrl: b.adminUrl, key: read('bootstrap.key'), token: read('admin.token') };
  }

  // Stops the proxies first (they seal outcomes), then the boundaries.
  async stop() {
    for (const p of this.proxies) await p.child.stop();
    for (const b of this.boundaries) if (b.child) await b.child.stop();
  }

  cleanup() {
    for (const b of this.boundaries) rmSync(b.dataDir, { recursive: true, force: true });
  }
}

// The admin API of one boundary, as seen by a proxy handle (adminUrl, token).
export async function admin(p, method, urlPath, body) {
  const res = await fetch(p.adminUrl + urlPath, {
    method,
    headers: { Authorization: `Bearer ${p.token}`, 'Content-Type': 'application/json', Connection: 'close' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// The outcome receipt whose parent is `decisionReceiptId`; polls briefly,
// because a stream's outcome is sealed after its last byte went out.
export async function findOutcome(p, decisionReceiptId, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await admin(p, 'GET', '/api/v1/receipts?limit=1000');
    if (status !== 200) throw new Error(`list receipts: HTTP ${status}`);
    const hit = json.receipts.find((r) => r.kind === 'outcome' && r.parent === decisionReceiptId);
    if (hit) return hit;
    if (Date.now() > deadline) return null;
    await sleep(50);
  }
}

export function runHelm(args) {
  const r = spawnSync(HELM, args, { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Offline audit of one stopped data dir: `helm receipts verify` must pass,
// and in the export every ALLOW decision has exactly one outcome whose parent
// is its receipt id, while DENY and ESCALATE decisions have none.
// Returns {verify, decisions, outcomes, problems[]}.
export function auditDataDir(dataDir) {
  const verify = runHelm(['receipts', 'verify', '--data-dir', dataDir,
    '--trusted-key', path.join(dataDir, 'keys', 'signing.pub')]);
  const out = path.join(dataDir, 'export.jsonl');
  const exp = runHelm(['receipts', 'export', '--data-dir', dataDir, '--out', out]);
  const problems = [];
  if (exp.code !== 0) problems.push(`export failed (${exp.code}): ${exp.stderr}`);
  const receipts = exp.code === 0
    ? readFileSync(out, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
    : [];
  const decisions = receipts.filter((r) => r.kind === 'decision');
  const outcomes = receipts.filter((r) => r.kind === 'outcome');
  const byParent = new Map();
  for (const o of outcomes) byParent.set(o.parent, (byParent.get(o.parent) ?? 0) + 1);
  const decisionIds = new Set(decisions.map((d) => d.receipt_id));
  for (const d of decisions) {
    const n = byParent.get(d.receipt_id) ?? 0;
    if (d.verdict === 'ALLOW' && n !== 1) problems.push(`ALLOW ${d.receipt_id} has ${n} outcomes`);
    if (d.verdict !== 'ALLOW' && n !== 0) problems.push(`${d.verdict} ${d.receipt_id} has ${n} outcomes`);
  }
  for (const o of outcomes) {
    if (!decisionIds.has(o.parent)) problems.push(`outcome ${o.receipt_id} has unknown parent ${o.parent}`);
  }
  return { verify, decisions, outcomes, problems };
}
