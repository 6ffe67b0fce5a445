// The verifier against a chain signed by the C++ receipt module, and against
// sdk/python/helm_verify.py on the same files: same report, same exit code.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  VerifyInputError,
  canonicalize,
  ed25519Verify,
  exitCodeOf,
  formatReport,
  parseStrictJson,
  verifyExport,
} from '../dist/index.js';
import { goldenExport, pythonVerify, pythonVerifyMany, tempDir, tsVerify } from '../test-support/helpers.mjs';

let golden; // {file, key, bytes, lines}
let dir;
const OTHER_KEY = randomBytes(32).toString('hex');

// Writes `lines` as an export file (one per line, final newline) in the temp dir.
function exportFile(name, lines) {
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => l + '\n').join(''));
  return file;
}

// Runs both verifiers on a file and checks they agree on the report (every
// member, the detail included) and the exit code; returns the report.
function bothAgree(file, keys, checkpoints = []) {
  const py = pythonVerify(file, keys, checkpoints);
  const ts = tsVerify(file, keys, checkpoints);
  assert.ok(py.report, `python printed no report: ${py.stderr}`);
  assert.ok(ts.report, `the CLI printed no report: ${ts.stderr}`);
  assert.deepEqual(ts.report, py.report);
  assert.equal(ts.code, py.code);
  // The CLI prints the report byte for byte as helm_verify.py does.
  assert.equal(ts.stdout, py.stdout);
  // The library gives the same report as the CLI.
  const lib = verifyExport(readFileSync(file), {
    trustedKeys: keys,
    trustedCheckpoints: checkpoints.map((c) => readFileSync(c)),
  });
  assert.deepEqual(lib, ts.report);
  assert.equal(exitCodeOf(lib), ts.code);
  return { report: ts.report, code: ts.code };
}

before(() => {
  golden = goldenExport();
  dir = tempDir('helm-verify-ts-');
});

after(() => {
  if (golden) rmSync(path.dirname(golden.file), { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('verifyExport on the golden export (signed by the C++ module)', () => {
  it('is intact and trusted: exit 0', () => {
    const report = verifyExport(golden.bytes, { trustedKeys: [golden.key] });
    assert.equal(report.integrity_ok, true);
    assert.equal(report.trust_ok, true);
    assert.equal(report.receipts, 5);
    assert.equal(report.checkpoints, 1);
    assert.equal(report.head_seq, 5);
    const lastLine = golden.bytes.subarray(0, golden.bytes.length - 1).toString().split('\n').at(-1);
    assert.equal(report.head_hash, 'sha256:' + createHash('sha256').update(lastLine).digest('hex'));
    assert.deepEqual(report.decisions_without_outcome, ['rcpt_3']);
    assert.equal(exitCodeOf(report), 0);
    // The same from its text and from its lines.
    assert.deepEqual(verifyExport(golden.bytes.toString('utf8'), { trustedKeys: [golden.key] }), report);
    assert.deepEqual(verifyExport(golden.lines, { trustedKeys: [golden.key.toUpperCase()] }), report);
  });

  it('re-canonicalises every line to its own bytes (big integers included)', () => {
    for (const line of golden.lines) assert.equal(canonicalize(parseStrictJson(line)), line);
    assert.match(golden.lines[0], /9007199254740993/);
  });

  it('gives the same report as helm_verify.py: intact', () => {
    const { report, code } = bothAgree(golden.file, [golden.key]);
    assert.equal(code, 0);
    assert.equal(report.integrity_ok, true);
  });

  it('gives the same report as helm_verify.py: one flipped character', () => {
    const lines = [...golden.lines];
    lines[1] = lines[1].replace('"completed"', '"complete4"');
    const { report, code } = bothAgree(exportFile('flipped.jsonl', lines), [golden.key]);
    assert.equal(code, 3);
    assert.equal(report.first_broken_check, 'signature');
    assert.equal(report.first_broken_seq, 2);
  });

  it('gives the same report as helm_verify.py: two lines swapped', () => {
    const lines = [golden.lines[0], golden.lines[2], golden.lines[1], ...golden.lines.slice(3)];
    const { report, code } = bothAgree(exportFile('swapped.jsonl', lines), [golden.key]);
    assert.equal(code, 3);
    assert.equal(report.first_broken_check, 'seq');
    assert.equal(report.first_broken_seq, 3);
  });

  it('gives the same report as helm_verify.py: a line removed', () => {
    const lines = golden.lines.filter((_, i) => i !== 2);
    const { report, code } = bothAgree(exportFile('removed.jsonl', lines), [golden.key]);
    assert.equal(code, 3);
    assert.equal(report.first_broken_check, 'seq');
    assert.equal(report.first_broken_seq, 4);
  });

  it('gives the same report as helm_verify.py: the tail cut, with a trusted checkpoint', () => {
    const pin = path.join(dir, 'pin.jsonl');
    writeFileSync(pin, golden.lines[4] + '\n');
    const full = bothAgree(golden.file, [golden.key], [pin]);
    assert.equal(full.code, 0);
    const cut = bothAgree(exportFile('cut.jsonl', golden.lines.slice(0, 2)), [golden.key], [pin]);
    assert.equal(cut.code, 3);
    assert.equal(cut.report.first_broken_check, 'truncated');
    assert.equal(cut.report.first_broken_seq, 3);
    // Just before the checkpoint is truncated too; without the pin the cut is invisible.
    const before = bothAgree(exportFile('before-pin.jsonl', golden.lines.slice(0, 4)), [golden.key], [pin]);
    assert.equal(before.report.first_broken_check, 'truncated');
    assert.equal(bothAgree(exportFile('cut2.jsonl', golden.lines.slice(0, 2)), [golden.key]).code, 0);
    // A range that ends before the pin's receipt: truncated as well.
    const range = bothAgree(exportFile('range.jsonl', golden.lines.slice(1, 3)), [golden.key], [pin]);
    assert.equal(range.report.first_broken_check, 'truncated');
    assert.equal(range.report.first_broken_seq, 4);
  });

  it('gives the same report as helm_verify.py: an untrusted key (exit 4)', () => {
    const { report, code } = bothAgree(golden.file, [OTHER_KEY]);
    assert.equal(code, 4);
    assert.equal(report.integrity_ok, true);
    assert.equal(report.trust_ok, false);
    assert.equal(report.first_untrusted_seq, 1);
    assert.equal(report.untrusted_key_id, JSON.parse(golden.lines[0]).signer.key_id);
  });

  it('gives the same report as helm_verify.py: non-canonical line, foreign ledger', () => {
    const spaced = [golden.lines[0].replace(/^\{/, '{ '), ...golden.lines.slice(1)];
    const s = bothAgree(exportFile('spaced.jsonl', spaced), [golden.key]);
    assert.equal(s.report.first_broken_check, 'format');
    assert.equal(s.report.first_broken_detail, 'line 1: not in canonical (RFC 8785) form');
    const crlf = bothAgree(exportFile('crlf.jsonl', golden.lines.map((l) => l + '\r')), [golden.key]);
    assert.equal(crlf.report.first_broken_check, 'format');
    const foreign = [...golden.lines];
    foreign[2] = foreign[2].replace('"ldg_golden"', '"ldg_other"');
    assert.equal(bothAgree(exportFile('foreign.jsonl', foreign), [golden.key]).report.first_broken_check,
      'signature');
  });

  it('agrees with helm_verify.py on a sweep of bit flips across the whole export', () => {
    const exports = [];
    for (let i = 0; i < golden.bytes.length; i += 5) {
      for (const bit of [0x01, 0x20, 0x80]) {
        const m = Buffer.from(golden.bytes);
        m[i] ^= bit;
        exports.push(m);
      }
    }
    const want = pythonVerifyMany(exports, golden.key);
    assert.equal(want.length, exports.length);
    let formatDetails = 0;
    exports.forEach((m, i) => {
      const got = verifyExport(m, { trustedKeys: [golden.key] });
      assert.equal(got.integrity_ok, false, `flip ${i} accepted`);
      if (got.first_broken_check === 'format') {
        // Parser messages differ between languages; the line does not.
        assert.match(got.first_broken_detail, new RegExp(`^line ${got.first_broken_seq}: `));
        assert.match(want[i].first_broken_detail, new RegExp(`^line ${got.first_broken_seq}: `));
        formatDetails++;
        assert.deepEqual({ ...got, first_broken_detail: '' }, { ...want[i], first_broken_detail: '' },
          `flip ${i}`);
      } else {
        assert.deepEqual(got, want[i], `flip ${i}`);
      }
    });
    assert.ok(formatDetails > 0 && formatDetails < exports.length);
  });
});

describe('verifyExport: inputs', () => {
  it('refuses a malformed trusted key and an unusable checkpoint', () => {
    assert.throws(() => verifyExport(golden.bytes, { trustedKeys: ['abc'] }), VerifyInputError);
    assert.throws(() => verifyExport(golden.bytes, {
      trustedKeys: [golden.key], trustedCheckpoints: [golden.lines[0]],
    }), /kind is not checkpoint/);
    assert.throws(() => verifyExport(golden.bytes, {
      trustedKeys: [OTHER_KEY], trustedCheckpoints: [golden.lines[4]],
    }), /untrusted key/);
    assert.throws(() => verifyExport(golden.bytes, {
      trustedKeys: [golden.key], trustedCheckpoints: [golden.lines[3] + '\n' + golden.lines[4]],
    }), /exactly one receipt/);
  });

  it('the CLI exits 2 on usage and I/O errors, as helm_verify.py does', () => {
    assert.equal(tsVerify(path.join(dir, 'missing.jsonl'), [golden.key]).code, 2);
    assert.equal(pythonVerify(path.join(dir, 'missing.jsonl'), [golden.key]).code, 2);
    assert.equal(tsVerify(golden.file, ['not-hex']).code, 2);
    const pin = path.join(dir, 'bad-pin.jsonl');
    writeFileSync(pin, golden.lines[0] + '\n');
    assert.equal(tsVerify(golden.file, [golden.key], [pin]).code, 2);
    assert.equal(pythonVerify(golden.file, [golden.key], [pin]).code, 2);
  });

  it('formatReport prints members sorted', () => {
    const text = formatReport(verifyExport(golden.bytes, { trustedKeys: [golden.key] }));
    const names = [...text.matchAll(/^ {2}"([a-z_]+)":/gm)].map((m) => m[1]);
    assert.deepEqual(names, [...names].sort());
    assert.equal(names.length, 12);
  });
});

describe('ed25519Verify: libsodium strictness', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const msg = Buffer.from('helm receipt pre-image');
  const sig = sign(null, msg, privateKey);
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const le = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();

  it('accepts a good signature and refuses a changed message', () => {
    assert.equal(ed25519Verify(raw, msg, sig), true);
    assert.equal(ed25519Verify(raw, Buffer.from('helm receipt pre-imagE'), sig), false);
  });

  it('refuses S + L, the second encoding of a valid S', () => {
    const s = BigInt('0x' + Buffer.from(sig.subarray(32)).reverse().toString('hex'));
    const malleable = Buffer.concat([sig.subarray(0, 32), le(s + L)]);
    assert.equal(ed25519Verify(raw, msg, malleable), false);
  });

  it('refuses the identity key with R = identity and S = 0 (valid for every message under a lax verifier)', () => {
    const identity = le(1n);
    const forged = Buffer.concat([identity, Buffer.alloc(32)]);
    assert.equal(ed25519Verify(identity, msg, forged), false);
    assert.equal(ed25519Verify(identity, Buffer.from('anything'), forged), false);
  });

  it('makes the same call as helm_verify.py on a receipt signed that way', () => {
    // A receipt "signed" by the identity point: only a strict verifier refuses it.
    const identity = le(1n);
    const keyHex = identity.toString('hex');
    const receipt = {
      v: 'helm.receipt.v1', kind: 'decision', receipt_id: 'rcpt_1', ledger_id: 'ldg_x', seq: 1,
      prev_hash: 'sha256:' + '0'.repeat(64), verdict: 'DENY',
      signer: { alg: 'ed25519', key_id: createHash('sha256').update(identity).digest('hex').slice(0, 16),
        public_key: keyHex },
      signature: Buffer.concat([identity, Buffer.alloc(32)]).toString('base64url'),
    };
    const file = exportFile('identity.jsonl', [canonicalize(receipt)]);
    const { report, code } = bothAgree(file, [keyHex]);
    assert.equal(code, 3);
    assert.equal(report.first_broken_check, 'signature');
  });
});
