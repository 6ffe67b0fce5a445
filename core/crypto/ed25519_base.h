// Ed25519 fixed-base scalar multiplication for many scalars at once, for the
// nonce commitments R = r·B (crypto.h, PrepareSignatures).
//
// libsodium computes one R at a time and encodes it at once, which costs a
// field inversion per point: about a quarter of the work. Its public API
// takes and returns encoded points only, so a batch cannot share that
// inversion there. This file multiplies in extended coordinates (constant
// time in the scalar: fixed windows, every table entry read for every
// digit) and encodes a whole batch with one inversion (Montgomery's trick).
//
// The precomputed table is built from the base point when first used and
// checked entry by entry against libsodium, with a few random scalars; if
// anything differs, FastBaseAvailable() is false and callers use libsodium.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace helm::crypto {

using Bytes32 = std::array<uint8_t, 32>;

// Whether the batched path passed its self-test (computed once).
bool FastBaseAvailable();

// The most scalars one BaseMultiplyBatch takes.
constexpr size_t kBaseBatch = 16;

// out[i] = encoding of scalars[i]·B, for scalars < 2^255 (those reduced mod L
// are). Requires FastBaseAvailable(), out.size() == scalars.size() and at
// most kBaseBatch of them.
void BaseMultiplyBatch(std::span<const Bytes32> scalars, std::span<Bytes32> out);

}  // namespace helm::crypto
