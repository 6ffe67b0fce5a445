// Fixed-base scalar multiplication on edwards25519 (ed25519_base.h).
//
// Field: GF(p), p = 2^255 - 19, in five 51-bit limbs with 128-bit products.
// Curve: -x^2 + y^2 = 1 + d·x^2·y^2, points in extended coordinates
// (X:Y:Z:T) with x = X/Z, y = Y/Z, x·y = T/Z (Hisil, Wong, Carter, Dawson,
// "Twisted Edwards Curves Revisited", 2008: add-2008-hwcd-3, dbl-2008-hwcd).
// The formulas are complete on this curve, so no input is a special case.
//
// Multiplication: the scalar in 64 signed radix-16 digits e[i] in [-8, 8];
// table row k holds j·256^k·B for j = 1..8 as (y+x, y-x, 2d·x·y). Then
// s·B = 16·Σ_{i odd} e[i]·256^(i/2)·B + Σ_{i even} e[i]·256^(i/2)·B: 64 mixed
// additions and 4 doublings. Each digit reads all eight entries of its row
// and keeps one with masks, and negates with a mask, so neither time nor
// memory access depends on the scalar.
#include "core/crypto/ed25519_base.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace helm::crypto {
namespace {

using u128 = unsigned __int128;
constexpr uint64_t kMask51 = (uint64_t{1} << 51) - 1;

// Limb bounds: Mul takes limbs under 2^60 (Square under 2^56) and returns
// them under 2^51 + 2^17 for the inputs below ("tight"). Add and Sub do not
// carry: their results only ever go into Mul, into ToBytes (which carries
// first), or, for a sum of two tight elements, into Sub as the subtrahend
// (under 2^53 - 76).
struct Fe {
  uint64_t v[5];
};

constexpr Fe kZero{{0, 0, 0, 0, 0}};
constexpr Fe kOne{{1, 0, 0, 0, 0}};

Fe FromSmall(uint64_t n) { return Fe{{n, 0, 0, 0, 0}}; }

// Limbs under 2^63 to tight ones (the top carry wraps as ·19).
Fe Carry(Fe h) {
  for (int i = 0; i < 4; ++i) {
    h.v[i + 1] += h.v[i] >> 51;
    h.v[i] &= kMask51;
  }
  h.v[0] += 19 * (h.v[4] >> 51);
  h.v[4] &= kMask51;
  h.v[1] += h.v[0] >> 51;
  h.v[0] &= kMask51;
  return h;
}

Fe Add(const Fe& f, const Fe& g) {
  Fe h;
  for (int i = 0; i < 5; ++i) h.v[i] = f.v[i] + g.v[i];
  return h;
}

// f + 4p - g: 4p's limbs (2^53 - 76 and 2^53 - 4) exceed g's, so no limb
// goes below zero.
Fe Sub(const Fe& f, const Fe& g) {
  Fe h;
  h.v[0] = f.v[0] + ((kMask51 - 18) << 2) - g.v[0];
  for (int i = 1; i < 5; ++i) h.v[i] = f.v[i] + (kMask51 << 2) - g.v[i];
  return h;
}

Fe Neg(const Fe& f) { return Sub(kZero, f); }

// The five 128-bit column sums of a product, carried to tight limbs.
Fe CarryProduct(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  Fe h;
  r1 += r0 >> 51;
  h.v[0] = static_cast<uint64_t>(r0) & kMask51;
  r2 += r1 >> 51;
  h.v[1] = static_cast<uint64_t>(r1) & kMask51;
  r3 += r2 >> 51;
  h.v[2] = static_cast<uint64_t>(r2) & kMask51;
  r4 += r3 >> 51;
  h.v[3] = static_cast<uint64_t>(r3) & kMask51;
  h.v[4] = static_cast<uint64_t>(r4) & kMask51;
  const u128 low = h.v[0] + 19 * (r4 >> 51);
  h.v[0] = static_cast<uint64_t>(low) & kMask51;
  h.v[1] += static_cast<uint64_t>(low >> 51);
  return h;
}

Fe Mul(const Fe& f, const Fe& g) {
  const uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const uint64_t g0 = g.v[0], g1 = g.v[1], g2 = g.v[2], g3 = g.v[3], g4 = g.v[4];
  const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
  // Limbs under 2^60 and 19·g under 2^65: each sum stays under 2^128.
  return CarryProduct(
      (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19,
      (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19,
      (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19,
      (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19,
      (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0);
}

// Mul(f, f) with 15 products instead of 25, for limbs under 2^56.
Fe Square(const Fe& f) {
  const uint64_t f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f2_2 = 2 * f2;
  const uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4, f4_38 = 38 * f4;
  return CarryProduct((u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)f2_2 * f3_19,
                      (u128)f0_2 * f1 + (u128)f2_2 * f4_19 + (u128)f3 * f3_19,
                      (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3 * f4_38,
                      (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19,
                      (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2);
}

Fe SquareTimes(Fe f, int n) {
  for (int i = 0; i < n; ++i) f = Square(f);
  return f;
}

// z^(p-2) = z^(2^255 - 21), by the usual addition chain.
Fe Invert(const Fe& z) {
  const Fe z2 = Square(z);
  const Fe z9 = Mul(SquareTimes(z2, 2), z);
  const Fe z11 = Mul(z9, z2);
  const Fe z_5_0 = Mul(Square(z11), z9);  // z^(2^5 - 1)
  const Fe z_10_0 = Mul(SquareTimes(z_5_0, 5), z_5_0);
  const Fe z_20_0 = Mul(SquareTimes(z_10_0, 10), z_10_0);
  const Fe z_40_0 = Mul(SquareTimes(z_20_0, 20), z_20_0);
  const Fe z_50_0 = Mul(SquareTimes(z_40_0, 10), z_10_0);
  const Fe z_100_0 = Mul(SquareTimes(z_50_0, 50), z_50_0);
  const Fe z_200_0 = Mul(SquareTimes(z_100_0, 100), z_100_0);
  const Fe z_250_0 = Mul(SquareTimes(z_200_0, 50), z_50_0);
  return Mul(SquareTimes(z_250_0, 5), z11);
}

// The canonical little-endian encoding (fully reduced mod p).
Bytes32 ToBytes(const Fe& f) {
  Fe h = Carry(f);  // tight: under 2p
  // q = 1 exactly when h >= p, i.e. when h + 19 reaches 2^255.
  uint64_t q = (h.v[0] + 19) >> 51;
  for (int i = 1; i < 5; ++i) q = (h.v[i] + q) >> 51;
  h.v[0] += 19 * q;
  for (int i = 0; i < 4; ++i) {
    h.v[i + 1] += h.v[i] >> 51;
    h.v[i] &= kMask51;
  }
  h.v[4] &= kMask51;  // drops q·2^255
  const uint64_t words[4] = {h.v[0] | h.v[1] << 51, h.v[1] >> 13 | h.v[2] << 38,
                             h.v[2] >> 26 | h.v[3] << 25, h.v[3] >> 39 | h.v[4] << 12};
  Bytes32 out;
  for (int w = 0; w < 4; ++w) {
    for (int b = 0; b < 8; ++b) out[8 * w + b] = static_cast<uint8_t>(words[w] >> (8 * b));
  }
  return out;
}

Fe FromBytes(const Bytes32& in) {  // the top bit ignored
  uint64_t w[4] = {0, 0, 0, 0};
  for (int i = 0; i < 32; ++i) w[i / 8] |= uint64_t{in[i]} << (8 * (i % 8));
  return Fe{{w[0] & kMask51, (w[0] >> 51 | w[1] << 13) & kMask51,
             (w[1] >> 38 | w[2] << 26) & kMask51, (w[2] >> 25 | w[3] << 39) & kMask51,
             (w[3] >> 12) & kMask51}};
}

// f = g when flag is 1, unchanged when 0, in constant time.
void Select(Fe* f, const Fe& g, uint64_t flag) {
  const uint64_t mask = 0 - flag;
  for (int i = 0; i < 5; ++i) f->v[i] ^= mask & (f->v[i] ^ g.v[i]);
}

struct Point {  // extended coordinates
  Fe X, Y, Z, T;
};

struct Affine {  // a table entry: (y + x, y - x, 2d·x·y)
  Fe ypx, ymx, xy2d;
};

Point Identity() { return Point{kZero, kOne, kOne, kZero}; }

// p + q (add-2008-hwcd-3 with Z2 = 1): 7 multiplications.
Point AddAffine(const Point& p, const Affine& q) {
  const Fe a = Mul(Sub(p.Y, p.X), q.ymx);
  const Fe b = Mul(Add(p.Y, p.X), q.ypx);
  const Fe c = Mul(p.T, q.xy2d);
  const Fe d = Add(p.Z, p.Z);
  const Fe e = Sub(b, a), f = Sub(d, c), g = Add(d, c), h = Add(b, a);
  return Point{Mul(e, f), Mul(g, h), Mul(f, g), Mul(e, h)};
}

// p + q for two extended points (add-2008-hwcd-3); d2 = 2d.
Point AddPoints(const Point& p, const Point& q, const Fe& d2) {
  const Fe a = Mul(Sub(p.Y, p.X), Sub(q.Y, q.X));
  const Fe b = Mul(Add(p.Y, p.X), Add(q.Y, q.X));
  const Fe c = Mul(Mul(p.T, q.T), d2);
  const Fe zz = Mul(p.Z, q.Z);
  const Fe d = Add(zz, zz);
  const Fe e = Sub(b, a), f = Sub(d, c), g = Add(d, c), h = Add(b, a);
  return Point{Mul(e, f), Mul(g, h), Mul(f, g), Mul(e, h)};
}

// 2p (dbl-2008-hwcd with a = -1).
Point Double(const Point& p) {
  const Fe a = Square(p.X);
  const Fe b = Square(p.Y);
  const Fe zz = Square(p.Z);
  const Fe c = Add(zz, zz);
  const Fe sum = Add(a, b);
  const Fe e = Sub(Square(Add(p.X, p.Y)), sum);
  const Fe g = Sub(b, a);
  const Fe f = Sub(g, c);
  const Fe h = Neg(sum);
  return Point{Mul(e, f), Mul(g, h), Mul(f, g), Mul(e, h)};
}

// z[i] = 1 / z[i] for all i with one inversion; `prefix` holds n elements.
void InvertAll(Fe* z, size_t n, Fe* prefix) {
  Fe acc = kOne;
  for (size_t i = 0; i < n; ++i) {
    prefix[i] = acc;
    acc = Mul(acc, z[i]);
  }
  Fe inverse = Invert(acc);  // of z[0]·…·z[n-1]
  for (size_t i = n; i-- > 0;) {
    const Fe zi = z[i];
    z[i] = Mul(inverse, prefix[i]);
    inverse = Mul(inverse, zi);
  }
}

Bytes32 Encode(const Point& p, const Fe& z_inverse) {
  Bytes32 out = ToBytes(Mul(p.Y, z_inverse));
  out[31] |= static_cast<uint8_t>((ToBytes(Mul(p.X, z_inverse))[0] & 1) << 7);
  return out;
}

struct Table {
  Affine rows[32][8];  // rows[k][j] = (j + 1)·256^k·B
  bool ok = false;
};

// One row's entry for a digit b in [-8, 8]: (0 when b = 0, the identity).
Affine Lookup(const Affine (&row)[8], int b) {
  const int sign = b >> 31;  // -1 or 0
  const auto magnitude = static_cast<uint64_t>((b ^ sign) - sign);
  Affine t{kOne, kOne, kZero};
  for (uint64_t j = 0; j < 8; ++j) {
    const uint64_t equal = ((magnitude ^ (j + 1)) - 1) >> 63;
    Select(&t.ypx, row[j].ypx, equal);
    Select(&t.ymx, row[j].ymx, equal);
    Select(&t.xy2d, row[j].xy2d, equal);
  }
  const uint64_t negative = static_cast<uint64_t>(sign) & 1;
  const Affine minus{t.ymx, t.ypx, Neg(t.xy2d)};
  Select(&t.ypx, minus.ypx, negative);
  Select(&t.ymx, minus.ymx, negative);
  Select(&t.xy2d, minus.xy2d, negative);
  return t;
}

Point Multiply(const Table& table, const Bytes32& scalar) {
  int8_t e[64];
  for (int i = 0; i < 32; ++i) {
    e[2 * i] = static_cast<int8_t>(scalar[i] & 15);
    e[2 * i + 1] = static_cast<int8_t>(scalar[i] >> 4);
  }
  int carry = 0;  // to digits in [-8, 8): e[63] then ends in [0, 8] for s < 2^255
  for (int i = 0; i < 63; ++i) {
    const int digit = e[i] + carry;
    carry = (digit + 8) >> 4;
    e[i] = static_cast<int8_t>(digit - carry * 16);
  }
  e[63] = static_cast<int8_t>(e[63] + carry);
  Point h = Identity();
  for (int i = 1; i < 64; i += 2) h = AddAffine(h, Lookup(table.rows[i / 2], e[i]));
  for (int i = 0; i < 4; ++i) h = Double(h);
  for (int i = 0; i < 64; i += 2) h = AddAffine(h, Lookup(table.rows[i / 2], e[i]));
  sodium_memzero(e, sizeof e);
  return h;
}

void MultiplyBatch(const Table& table, std::span<const Bytes32> scalars, std::span<Bytes32> out) {
  const size_t n = std::min(scalars.size(), kBaseBatch);
  Point points[kBaseBatch];
  Fe z[kBaseBatch];
  Fe prefix[kBaseBatch];
  for (size_t i = 0; i < n; ++i) {
    points[i] = Multiply(table, scalars[i]);
    z[i] = points[i].Z;
  }
  InvertAll(z, n, prefix);
  for (size_t i = 0; i < n; ++i) out[i] = Encode(points[i], z[i]);
}

// The base point B (RFC 8032 §5.1): y = 4/5, x the even root.
constexpr Bytes32 kBaseX = {0x1a, 0xd5, 0x25, 0x8f, 0x60, 0x2d, 0x56, 0xc9, 0xb2, 0xa7, 0x25,
                            0x95, 0x60, 0xc7, 0x2c, 0x69, 0x5c, 0xdc, 0xd6, 0xfd, 0x31, 0xe2,
                            0xa4, 0xc0, 0xfe, 0x53, 0x6e, 0xcd, 0xd3, 0x36, 0x69, 0x21};

Table Build() {
  Table table;
  const Fe d = Mul(Neg(FromSmall(121665)), Invert(FromSmall(121666)));
  const Fe d2 = Add(d, d);
  const Fe x = FromBytes(kBaseX);
  const Fe y = Mul(FromSmall(4), Invert(FromSmall(5)));
  Point row_base{x, y, kOne, Mul(x, y)};  // 256^k·B
  Point points[32][8];
  for (auto& row : points) {
    row[0] = row_base;
    for (int j = 1; j < 8; ++j) row[j] = AddPoints(row[j - 1], row_base, d2);
    for (int i = 0; i < 8; ++i) row_base = Double(row_base);
  }
  Fe z[256];
  Fe prefix[256];
  for (int i = 0; i < 256; ++i) z[i] = points[i / 8][i % 8].Z;
  InvertAll(z, 256, prefix);
  bool ok = true;
  for (int k = 0; k < 32; ++k) {
    for (int j = 0; j < 8; ++j) {
      const Point& p = points[k][j];
      const Fe& zi = z[8 * k + j];
      const Fe px = Mul(p.X, zi), py = Mul(p.Y, zi);
      table.rows[k][j] = Affine{Carry(Add(py, px)), Carry(Sub(py, px)), Mul(Mul(px, py), d2)};
      // Checked against libsodium: the scalar (j + 1)·256^k is one byte.
      Bytes32 scalar{};
      scalar[k] = static_cast<uint8_t>(j + 1);
      Bytes32 expected;
      ok = ok && crypto_scalarmult_ed25519_base_noclamp(expected.data(), scalar.data()) == 0 &&
           Encode(p, zi) == expected;
    }
  }
  // And whole multiplications, batched, against libsodium's one at a time.
  Bytes32 scalars[kBaseBatch];
  Bytes32 got[kBaseBatch];
  for (auto& s : scalars) crypto_core_ed25519_scalar_random(s.data());
  MultiplyBatch(table, scalars, got);
  for (size_t i = 0; i < std::size(scalars); ++i) {
    Bytes32 expected;
    ok = ok && crypto_scalarmult_ed25519_base_noclamp(expected.data(), scalars[i].data()) == 0 &&
         got[i] == expected;
  }
  table.ok = ok;
  return table;
}

const Table& TheTable() {
  static const Table table = Build();
  return table;
}

}  // namespace

bool FastBaseAvailable() { return TheTable().ok; }

void BaseMultiplyBatch(std::span<const Bytes32> scalars, std::span<Bytes32> out) {
  MultiplyBatch(TheTable(), scalars, out);
}

}  // namespace helm::crypto
