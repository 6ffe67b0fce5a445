// Shared by test/*.test.mjs (kept outside test/, where node --test would run
// it as a test file): where the repository, the build and helm are, the
// golden export signed by the C++ receipt module, the Python reference
// verifier, and a helm process on loopback ports.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SDK_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(SDK_DIR, '..', '..');
export const BUILD_DIR = process.env.HELM_BUILD_DIR || path.join(REPO, 'build');
export const HELM = process.env.HELM_BIN || path.join(BUILD_DIR, 'helm');
export const PYTHON = '/usr/bin/python3';
export const PY_VERIFY = path.join(REPO, 'sdk', 'python', 'helm_verify.py');
export const CLI = path.join(SDK_DIR, 'dist', 'cli.js');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function tempDir(prefix = 'helm-sdk-ts-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600000, ...options });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The 5-receipt export that helm_receipt_tests' golden test signs with the
// C++ receipt module (as sdk/python/selftest.sh gets it), built if needed.
// Returns {file, key, bytes, lines}.
export function goldenExport() {
  const tests = path.join(BUILD_DIR, 'helm_receipt_tests');
  if (!existsSync(tests)) {
    if (!existsSync(path.join(BUILD_DIR, 'CMakeCache.txt'))) {
      const c = run('cmake', ['-S', REPO, '-B', BUILD_DIR]);
      if (c.code !== 0) throw new Error(`cmake configure failed:\n${c.stderr}`);
    }
    const b = run('cmake', ['--build', BUILD_DIR, '-j2', '--target', 'helm_receipt_tests']);
    if (b.code !== 0) throw new Error(`building helm_receipt_tests failed:\n${b.stdout}${b.stderr}`);
  }
  const file = path.join(tempDir('helm-golden-'), 'golden.jsonl');
  const r = run(tests, ['--test-case=golden export*'], { env: { ...process.env, HELM_WRITE_GOLDEN: file } });
  if (r.code !== 0 || !existsSync(file)) {
    throw new Error(`helm_receipt_tests did not write the golden export (${r.code}):\n${r.stdout}${r.stderr}`);
  }
  const bytes = readFileSync(file);
  const key = readFileSync(file + '.pub', 'utf8').trim();
  const lines = bytes.toString('utf8').split('\n').filter((l) => l !== '');
  return { file, key, bytes, lines };
}

// sdk/python/helm_verify.py on a file: {code, report (parsed or null), stdout, stderr}.
export function pythonVerify(file, keys, checkpoints = []) {
  const args = [PY_VERIFY, '--file', file];
  for (const k of keys) args.push('--trusted-key', k);
  for (const c of checkpoints) args.push('--trusted-checkpoint', c);
  const r = run(PYTHON, args);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : null };
}

// This SDK's CLI on a file: {code, report, stdout, stderr}.
export function tsVerify(file, keys, checkpoints = []) {
  const args = [CLI, 'verify', '--file', file];
  for (const k of keys) args.push('--trusted-key', k);
  for (const c of checkpoints) args.push('--trusted-checkpoint', c);
  const r = run(process.execPath, args);
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : null };
}

// Runs Python's Verifier class over many exports in one process (for the
// mutation sweep): returns one report per export.
export function pythonVerifyMany(exports, key) {
  const script = `
import base64, json, sys
sys.path.insert(0, sys.argv[1])
import helm_verify as hv
d = json.load(sys.stdin)
out = []
for data in d["exports"]:
    v = hv.Verifier([bytes.fromhex(d["key"])])
    for line in hv.split_lines(base64.b64decode(data)):
        v.add(line)
    out.append(v.finish())
json.dump(out, sys.stdout)
`;
  const input = JSON.stringify({ key, exports: exports.map((b) => Buffer.from(b).toString('base64')) });
  const r = run(PYTHON, ['-c', script, path.dirname(PY_VERIFY)], { input, maxBuffer: 1 << 28 });
  if (r.code !== 0) throw new Error(`python verifier failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function runHelm(args) {
  return run(HELM, args, { timeout: 60000 });
}

const PROXY_RE = /helm proxy: listening on http:\/\/127\.0\.0\.1:(\d+)/;
const ADMIN_RE = /helm proxy: boundary admin API on http:\/\/127\.0\.0\.1:(\d+)/;

// `helm proxy --upstream mock:// --policy development.toml` with its own data
// dir, on ports the kernel picks (helm prints them). Resolves with
// {url, adminUrl, dataDir, key, token, signingKey, stop()}.
export async function startHelm(policy = path.join(REPO, 'policies', 'development.toml')) {
  if (!existsSync(HELM)) throw new Error(`helm binary not found at ${HELM} (set HELM_BIN)`);
  const dataDir = tempDir('helm-sdk-ts-data-');
  const proc = spawn(HELM, ['proxy', '--upstream', 'mock://', '--policy', policy,
    '--data-dir', dataDir, '--port', '0', '--admin-port', '0'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let log = '';
  proc.stderr.setEncoding('utf8');
  const ports = await new Promise((resolve, reject) => {
    let port;
    let adminPort;
    const timer = setTimeout(() => reject(new Error(`helm did not start in time:\n${log}`)), 20000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      port ??= PROXY_RE.exec(log)?.[1];
      adminPort ??= ADMIN_RE.exec(log)?.[1];
      if (port && adminPort) {
        clearTimeout(timer);
        resolve({ port, adminPort });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`helm exited (${code ?? signal}) before it listened:\n${log}`));
    });
  });
  const read = (f) => readFileSync(path.join(dataDir, 'keys', f), 'utf8').trim();
  return {
    url: `http://127.0.0.1:${ports.port}`,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    dataDir,
    key: read('bootstrap.key'),
    token: read('admin.token'),
    signingKey: read('signing.pub'),
    log: () => log,
    // SIGINT, as an operator's Ctrl-C; resolves with {code, signal}.
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15000);
        const result = await exited;
        clearTimeout(timer);
        process.off('exit', killOnExit);
        return result;
      }
      process.off('exit', killOnExit);
      return exited;
    },
  };
}
