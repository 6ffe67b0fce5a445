// Signing pre-image, stored form and signature check of helm.receipt.v1. The
// byte layout is specified in docs/receipts.md.
#include "core/receipt/receipt.h"

#include <string>
#include <utility>

#include "core/receipt/jcs.h"

namespace helm::receipt {
namespace {

Error Corrupt(std::string message) {
  return MakeError(ErrorCode::kCorruption, std::move(message));
}

// True if a floating-point number occurs anywhere in `value`.
bool ContainsFloat(const Json& value) {
  if (value.is_number_float()) return true;
  if (value.is_structured()) {
    for (const Json& child : value) {
      if (ContainsFloat(child)) return true;
    }
  }
  return false;
}

// The receipt's `signer` after checking its shape: alg ed25519, public_key as
// 64 lowercase hex chars, key_id derived from it. Returns the raw public key.
Result<std::string> SignerPublicKey(const Json& receipt) {
  auto signer = receipt.find("signer");
  if (signer == receipt.end() || !signer->is_object()) return Corrupt("signer: missing");
  auto alg = signer->find("alg");
  if (alg == signer->end() || *alg != "ed25519") return Corrupt("signer: alg is not ed25519");
  auto hex = signer->find("public_key");
  if (hex == signer->end() || !hex->is_string()) return Corrupt("signer: public_key missing");
  auto key = crypto::HexDecode(hex->get<std::string>());
  if (!key.ok() || key->size() != crypto::kPublicKeyBytes ||
      crypto::HexEncode(*key) != hex->get<std::string>()) {
    return Corrupt("signer: public_key is not 64 lowercase hex characters");
  }
  auto key_id = signer->find("key_id");
  if (key_id == signer->end() || *key_id != crypto::KeyId(*key)) {
    return Corrupt("signer: key_id does not match public_key");
  }
  return std::move(key).value();
}

// The raw signature, accepting only the one canonical base64url spelling.
Result<std::string> RawSignature(const Json& receipt) {
  auto sig = receipt.find("signature");
  if (sig == receipt.end() || !sig->is_string()) return Corrupt("signature: missing");
  auto raw = crypto::Base64UrlDecode(sig->get<std::string>());
  if (!raw.ok() || raw->size() != crypto::kSignatureBytes ||
      crypto::Base64UrlEncode(*raw) != sig->get<std::string>()) {
    return Corrupt("signature: not 64 bytes of unpadded base64url");
  }
  return std::move(raw).value();
}

}  // namespace

Result<std::string> SigningBytes(const Json& receipt) {
  if (!receipt.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "receipt is not a JSON object");
  }
  if (ContainsFloat(receipt)) {
    return MakeError(ErrorCode::kInvalidArgument, "receipt contains a floating-point number");
  }
  Json unsigned_part = receipt;
  unsigned_part.erase("signature");
  return Canonicalize(unsigned_part);
}

Result<Signed> Sign(Json receipt, const crypto::KeyPair& key) {
  if (!receipt.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "receipt is not a JSON object");
  }
  receipt["signer"] = Json{{"alg", "ed25519"},
                           {"key_id", crypto::KeyId(key.public_key)},
                           {"public_key", crypto::HexEncode(key.public_key)}};
  auto pre_image = SigningBytes(receipt);
  if (!pre_image.ok()) return pre_image.error();
  receipt["signature"] = crypto::Base64UrlEncode(crypto::Sign(*pre_image, key.secret_key));
  auto stored = Canonicalize(receipt);
  if (!stored.ok()) return stored.error();
  Signed out;
  out.hash = crypto::Sha256Tagged(*stored);
  out.canonical = std::move(stored).value();
  out.json = std::move(receipt);
  return out;
}

Result<Json> ParseStored(std::string_view stored) {
  auto parsed = ParseStrictJson(stored);
  if (!parsed.ok()) return Corrupt("not valid JSON: " + parsed.error().message);
  if (!parsed->is_object()) return Corrupt("not a JSON object");
  if (ContainsFloat(*parsed)) return Corrupt("contains a floating-point number");
  auto canonical = Canonicalize(*parsed);
  if (!canonical.ok()) return Corrupt(canonical.error().message);
  if (*canonical != stored) return Corrupt("not in canonical (RFC 8785) form");
  return std::move(parsed).value();
}

Status CheckSignature(const Json& receipt) {
  if (!receipt.is_object()) return Corrupt("receipt is not a JSON object");
  auto key = SignerPublicKey(receipt);
  if (!key.ok()) return key.error();
  auto signature = RawSignature(receipt);
  if (!signature.ok()) return signature.error();
  auto pre_image = SigningBytes(receipt);
  if (!pre_image.ok()) return Corrupt(pre_image.error().message);
  if (!crypto::Verify(*pre_image, *signature, *key)) {
    return Corrupt("signature: does not verify under signer.public_key");
  }
  return Status::Ok();
}

}  // namespace helm::receipt
