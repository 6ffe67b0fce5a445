#!/usr/bin/python3
"""Independent verifier for helm receipt exports (helm.receipt.v1).

Written from docs/receipts.md, sharing no code with the gateway: its own
RFC 8785 canonicalisation, its own chain rules. Standard library plus PyNaCl
(Debian: python3-nacl).

    /usr/bin/python3 helm_verify.py --file EXPORT.jsonl --trusted-key HEX \
        [--trusted-key HEX ...] [--trusted-checkpoint FILE ...]

Prints a JSON report and exits 0 (intact and trusted), 3 (integrity failure:
tampering, truncation, bad format), 4 (intact, but a signer is not among the
trusted keys) or 2 (usage or I/O error).
"""

import argparse
import base64
import hashlib
import json
import re
import sys

try:
    import nacl.exceptions
    import nacl.signing
except ImportError:  # pragma: no cover
    sys.stderr.write("helm_verify: PyNaCl is required (apt-get install python3-nacl)\n")
    sys.exit(2)

VERSION = "helm.receipt.v1"
GENESIS_PREV_HASH = "sha256:" + "0" * 64
MAX_DEPTH = 64  # same nesting limit as the gateway's strict JSON parser
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 64 - 1  # integers outside are not representable there

EXIT_OK, EXIT_USAGE, EXIT_TAMPERED, EXIT_UNTRUSTED = 0, 2, 3, 4


class FormatError(Exception):
    """A stored line that is not a well-formed, canonical receipt."""


# ---------------------------------------------------------------- RFC 8785 --

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                  "\f": "\\f", "\r": "\\r"}


def _jcs_string(s):
    """RFC 8785 §3.2.2.2: escape '"', '\\' and C0 controls only."""
    out = ['"']
    for ch in s:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _utf16_key(name):
    return name.encode("utf-16-be", "surrogatepass")


def jcs(value, depth=0):
    """RFC 8785 text of a parsed receipt value. Receipts hold no floats, so a
    float (or NaN/Infinity) is a FormatError rather than a number to format."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise FormatError("integer out of the 64-bit range")
        return str(value)
    if isinstance(value, float):
        raise FormatError("contains a floating-point number")
    if isinstance(value, str):
        return _jcs_string(value)
    if depth >= MAX_DEPTH:
        raise FormatError("JSON nesting deeper than %d" % MAX_DEPTH)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v, depth + 1) for v in value) + "]"
    if isinstance(value, dict):
        names = sorted(value.keys(), key=_utf16_key)  # §3.2.3: UTF-16 code units
        return "{" + ",".join(_jcs_string(k) + ":" + jcs(value[k], depth + 1)
                              for k in names) + "}"
    raise FormatError("value of type %s has no JSON form" % type(value).__name__)


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise FormatError('duplicate key "%s"' % k)
        out[k] = v
    return out


def _reject_float(text):
    raise FormatError("contains a floating-point number")


def _reject_constant(text):
    raise FormatError("contains %s" % text)


def parse_stored(line):
    """Parses one stored receipt (bytes); it must be exactly its own RFC 8785 form."""
    try:
        text = line.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates,
                           parse_float=_reject_float, parse_constant=_reject_constant)
    except FormatError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise FormatError("not valid JSON: %s" % e)
    if not isinstance(value, dict):
        raise FormatError("not a JSON object")
    try:
        canonical = jcs(value).encode("utf-8")
    except UnicodeEncodeError:
        raise FormatError("string is not valid Unicode (lone surrogate)")
    if canonical != line:
        raise FormatError("not in canonical (RFC 8785) form")
    return value


def sha256_tagged(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------- signature --

_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64URL_SIG = re.compile(r"[A-Za-z0-9_-]{86}")


def signer_key(receipt):
    """The raw public key from `signer`, after checking alg and key_id."""
    signer = receipt.get("signer")
    if not isinstance(signer, dict):
        raise ValueError("signer: missing")
    if signer.get("alg") != "ed25519":
        raise ValueError("signer: alg is not ed25519")
    hex_key = signer.get("public_key")
    if not isinstance(hex_key, str) or not _HEX64.fullmatch(hex_key):
        raise ValueError("signer: public_key is not 64 lowercase hex characters")
    key = bytes.fromhex(hex_key)
    if signer.get("key_id") != hashlib.sha256(key).hexdigest()[:16]:
        raise ValueError("signer: key_id does not match public_key")
    return key


def check_signature(receipt):
    """Verifies the Ed25519 signature with the embedded key; returns that key."""
    key = signer_key(receipt)
    sig_text = receipt.get("signature")
    if not isinstance(sig_text, str) or not _B64URL_SIG.fullmatch(sig_text):
        raise ValueError("signature: not 64 bytes of unpadded base64url")
    sig = base64.urlsafe_b64decode(sig_text + "==")
    if base64.urlsafe_b64encode(sig).decode().rstrip("=") != sig_text:
        raise ValueError("signature: not 64 bytes of unpadded base64url")
    pre_image = jcs({k: v for k, v in receipt.items() if k != "signature"}).encode("utf-8")
    try:
        nacl.signing.VerifyKey(key).verify(pre_image, sig)
    except nacl.exceptions.BadSignatureError:
        raise ValueError("signature: does not verify under signer.public_key")
    return key


# ------------------------------------------------------------------- chain --

def _positive_int(obj, name):
    v = obj.get(name)
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else 0


def missing_member(r):
    if r.get("v") != VERSION:
        return 'v (expected "%s")' % VERSION
    for name in ("kind", "receipt_id", "ledger_id", "prev_hash"):
        if not isinstance(r.get(name), str):
            return name
    if not _positive_int(r, "seq"):
        return "seq"
    return ""


class Verifier:
    """Same rules as the gateway's ChainVerifier (docs/receipts.md, Verification)."""

    def __init__(self, trusted_keys):
        self.trusted = set(trusted_keys)
        self.report = {
            "receipts": 0, "checkpoints": 0, "head_seq": 0, "head_hash": "",
            "integrity_ok": True, "first_broken_seq": 0, "first_broken_check": "",
            "first_broken_detail": "", "trust_ok": True, "first_untrusted_seq": 0,
            "untrusted_key_id": "", "decisions_without_outcome": [],
        }
        self.line = 0
        self.seen_any = False
        self.first_seq = 0
        self.last_seq = 0
        self.expected_prev = ""
        self.ledger_id = ""
        self.pins = []  # (own_seq, own_hash, seq, head_hash, ledger_id)
        self.open_decisions = {}  # receipt_id -> None, in insertion order

    def fail(self, seq, check, detail):
        if self.report["integrity_ok"]:
            self.report.update(integrity_ok=False, first_broken_seq=seq,
                               first_broken_check=check, first_broken_detail=detail)

    def add_trusted_checkpoint(self, stored):
        """A checkpoint obtained first-hand; raises ValueError if unusable."""
        if self.line:
            raise ValueError("trusted checkpoints must come before the export")
        try:
            r = parse_stored(stored)
        except FormatError as e:
            raise ValueError(str(e))
        missing = missing_member(r)
        if missing:
            raise ValueError("no valid " + missing)
        if r["kind"] != "checkpoint":
            raise ValueError("kind is not checkpoint")
        if check_signature(r) not in self.trusted:
            raise ValueError("signed by an untrusted key")
        body = r.get("checkpoint")
        if (not isinstance(body, dict) or not _positive_int(body, "seq")
                or not isinstance(body.get("head_hash"), str)):
            raise ValueError("no valid checkpoint member")
        self.pins.append((r["seq"], sha256_tagged(stored), body["seq"], body["head_hash"],
                          r["ledger_id"]))

    def add(self, stored):
        self.line += 1
        self.report["receipts"] += 1
        digest = sha256_tagged(stored)
        try:
            r = parse_stored(stored)
            missing = missing_member(r)
            if missing:
                raise FormatError("missing or invalid " + missing)
        except FormatError as e:
            self.fail(self.line, "format", "line %d: %s" % (self.line, e))
            self.expected_prev = digest
            return
        seq = r["seq"]
        key = None
        try:
            key = check_signature(r)
        except ValueError as e:
            self.fail(seq, "signature", str(e))
        self._check_chain(r, seq)
        if r["kind"] == "checkpoint":
            self._check_checkpoint_body(r, seq)
        self._check_pins(seq, digest)
        if key is not None and key not in self.trusted and self.report["trust_ok"]:
            self.report.update(trust_ok=False, first_untrusted_seq=seq,
                               untrusted_key_id=r["signer"]["key_id"])
        self._track_decisions(r)
        self.seen_any = True
        self.last_seq = seq
        self.expected_prev = digest
        self.report.update(head_seq=seq, head_hash=digest)

    def _check_chain(self, r, seq):
        if not self.ledger_id:
            self.ledger_id = r["ledger_id"]
        if r["ledger_id"] != self.ledger_id:
            self.fail(seq, "ledger_id", 'ledger_id "%s" in a chain of "%s"'
                      % (r["ledger_id"], self.ledger_id))
        if not self.seen_any:
            self.first_seq = seq
            if seq == 1:
                self.expected_prev = GENESIS_PREV_HASH
        elif seq != self.last_seq + 1:
            self.fail(seq, "seq", "seq %d follows %d" % (seq, self.last_seq))
        # A range export (first seq > 1) takes its first prev_hash on trust.
        if (self.seen_any or seq == 1) and r["prev_hash"] != self.expected_prev:
            self.fail(seq, "prev_hash", "prev_hash %s, previous receipt hashes to %s"
                      % (r["prev_hash"], self.expected_prev))

    def _check_checkpoint_body(self, r, seq):
        self.report["checkpoints"] += 1
        body = r.get("checkpoint")
        if not isinstance(body, dict):
            self.fail(seq, "checkpoint", "checkpoint receipt without a checkpoint object")
        elif _positive_int(body, "seq") != seq - 1 or body.get("head_hash") != r["prev_hash"]:
            self.fail(seq, "checkpoint", "checkpoint does not describe the receipt before it")

    def _check_pins(self, seq, digest):
        for own_seq, own_hash, pin_seq, head_hash, _ in self.pins:
            if seq == pin_seq and digest != head_hash:
                self.fail(seq, "checkpoint",
                          "hash differs from trusted checkpoint seq %d" % own_seq)
            if seq == own_seq and digest != own_hash:
                self.fail(seq, "checkpoint",
                          "receipt differs from the trusted checkpoint at this seq")

    def _track_decisions(self, r):
        if r["kind"] == "decision" and r.get("verdict") == "ALLOW":
            self.open_decisions.setdefault(r["receipt_id"], None)
        elif r["kind"] == "outcome" and isinstance(r.get("parent"), str):
            self.open_decisions.pop(r["parent"], None)

    def finish(self):
        # A trusted checkpoint must lie within the input: an input that ends
        # before it was cut off; one that starts after it was never checked.
        head = self.report["head_seq"]
        for own_seq, _, _, _, ledger_id in self.pins:
            if self.ledger_id and ledger_id != self.ledger_id:
                self.fail(own_seq, "ledger_id",
                          'trusted checkpoint is from ledger "%s"' % ledger_id)
            pinned = "the trusted checkpoint at seq %d" % own_seq
            if head < own_seq:
                self.fail(head + 1, "truncated", "input ends at seq %d, before %s" % (head, pinned))
            elif self.first_seq > own_seq:
                self.fail(own_seq, "checkpoint", "input starts at seq %d, after %s: nothing was "
                          "checked against it" % (self.first_seq, pinned))
        self.report["decisions_without_outcome"] = list(self.open_decisions)
        return self.report


# --------------------------------------------------------------------- CLI --

def split_lines(data):
    """Export lines: '\\n'-separated, the final '\\n' optional. Nothing else
    (no '\\r') is stripped: a stored line must match its canonical bytes."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description="Verify a helm receipt export offline.")
    ap.add_argument("--file", required=True, help="export, one stored receipt per line")
    ap.add_argument("--trusted-key", action="append", default=[], metavar="HEX",
                    help="trusted Ed25519 public key, 64 hex chars (repeatable)")
    ap.add_argument("--trusted-checkpoint", action="append", default=[], metavar="FILE",
                    help="a checkpoint receipt obtained earlier (repeatable)")
    args = ap.parse_args(argv)

    keys = []
    for hex_key in args.trusted_key:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", hex_key.strip()):
            sys.stderr.write("helm_verify: --trusted-key must be 64 hex characters\n")
            return EXIT_USAGE
        keys.append(bytes.fromhex(hex_key.strip()))
    verifier = Verifier(keys)
    try:
        for path in args.trusted_checkpoint:
            with open(path, "rb") as f:
                pin_lines = split_lines(f.read())
            if len(pin_lines) != 1:
                raise ValueError("%s: expected exactly one receipt" % path)
            verifier.add_trusted_checkpoint(pin_lines[0])
        with open(args.file, "rb") as f:
            data = f.read()
    except (OSError, ValueError) as e:
        sys.stderr.write("helm_verify: %s\n" % e)
        return EXIT_USAGE
    for line in split_lines(data):
        verifier.add(line)
    report = verifier.finish()
    print(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False))
    if not report["integrity_ok"]:
        return EXIT_TAMPERED
    if not report["trust_ok"]:
        return EXIT_UNTRUSTED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
