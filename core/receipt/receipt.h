// helm.receipt.v1: building, signing and checking one receipt (DESIGN §5,
// byte layout in docs/receipts.md). Pure functions; thread-safe.
//
// A receipt is a JSON object of strings, integers, booleans, objects and
// arrays (no floating point). Its canonical bytes are the RFC 8785 form of the
// object WITHOUT `signature`; the signature is Ed25519 over those bytes. The
// stored form (ledger value, export line) is the RFC 8785 form WITH
// `signature`, and the next receipt's `prev_hash` is sha256 of that form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/common/json.h"
#include "core/crypto/crypto.h"

namespace helm::receipt {

inline constexpr char kVersion[] = "helm.receipt.v1";
inline constexpr char kGenesisPrevHash[] =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

// JCS of `receipt` without its `signature` member.
Result<std::string> SigningBytes(const Json& receipt);

struct Signed {
  Json json;              // the receipt including `signer` and `signature`
  std::string canonical;  // JCS of `json` (the stored form)
  std::string hash;       // "sha256:<hex>" of `canonical` (the next receipt's prev_hash)
};

// Sets `signer` = {alg, key_id, public_key (hex)} and `signature`, returns the
// stored form. Fails only if the receipt cannot be canonicalised (a float).
Result<Signed> Sign(Json receipt, const crypto::KeyPair& key);

// Parses one stored receipt (ledger value or export line): strict JSON, a JSON
// object, no floating-point number anywhere, and `stored` must be exactly its
// own RFC 8785 form (one canonical byte string per receipt: no whitespace, no
// alternative escapes, no reordering). Says nothing about the signature.
Result<Json> ParseStored(std::string_view stored);

// Checks the signature with the public key embedded in `signer` (integrity);
// whether that key is trusted is the caller's question. Returns an error naming
// the failed check.
Status CheckSignature(const Json& receipt);

}  // namespace helm::receipt
