// Commands that work offline on files: verify, export, policy check/test, version.
#include <openssl/opensslv.h>

#include <fstream>
#include <iostream>
#include <set>

#include "core/app/commands.h"
#include "core/crypto/crypto.h"
#include "core/ledger/ledger.h"
#include "core/ledger/rocksdb_version.h"
#include "core/policy/vectors.h"
#include "core/receipt/verify.h"

namespace helm::app {
namespace {

// --trusted-key takes the hex key itself or a file that holds it.
Result<std::string> LoadTrustedKey(const std::string& arg) {
  std::string hex = arg;
  if (auto text = ReadFileToString(arg); text.ok()) hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.pop_back();
  }
  auto key = crypto::HexDecode(hex);
  if (!key.ok() || key->size() != crypto::kPublicKeyBytes) {
    return MakeError(ErrorCode::kConfig, "--trusted-key: not a 64-hex-digit Ed25519 public key");
  }
  return key;
}

void PrintReport(const receipt::VerifyReport& r, Format format) {
  if (format == Format::kJson) {
    std::cout << DumpJson(r.ToJson()) << "\n";
    return;
  }
  std::cout << "integrity: "
            << (r.integrity_ok ? "OK" : "BROKEN at seq " + std::to_string(r.first_broken_seq) +
                                            " (" + r.first_broken_check + ": " +
                                            r.first_broken_detail + ")")
            << "\n"
            << "trust:     "
            << (r.trust_ok ? "OK (every signer is trusted)"
                           : "UNTRUSTED signer " + r.untrusted_key_id + " at seq " +
                                 std::to_string(r.first_untrusted_seq))
            << "\n"
            << "receipts:  " << r.receipts << " (" << r.checkpoints << " checkpoints), head seq "
            << r.head_seq << "\n";
  if (!r.decisions_without_outcome.empty()) {
    std::cout << "decisions without outcome (process died mid-request): "
              << r.decisions_without_outcome.size() << "\n";
    for (const std::string& id : r.decisions_without_outcome) std::cout << "  " << id << "\n";
  }
}

}  // namespace

int RunReceiptsVerify(const VerifyOptions& o) {
  if (o.data_dir.empty() == o.file.empty()) {
    std::cerr << "helm receipts verify: give exactly one of --data-dir or --file\n";
    return kExitConfig;
  }
  std::set<std::string> trusted;  // every key of the ledger's life: one per rotation
  for (const std::string& arg : o.trusted_keys) {
    auto key = LoadTrustedKey(arg);
    if (!key.ok()) {
      std::cerr << "helm receipts verify: " << key.error().message << "\n";
      return kExitConfig;
    }
    trusted.insert(*key);
  }
  receipt::ChainVerifier verifier(std::move(trusted));
  if (!o.checkpoint_file.empty()) {
    auto cp = ReadFileToString(o.checkpoint_file);
    // An export line, as copied out of an export file, ends in its newline.
    std::string_view pin = cp.ok() ? std::string_view(*cp) : std::string_view();
    if (pin.ends_with('\n')) pin.remove_suffix(1);
    Status st = cp.ok() ? verifier.AddTrustedCheckpoint(pin) : Status(cp.error());
    if (!st.ok()) {
      std::cerr << "helm receipts verify: --checkpoint: " << st.error().message << "\n";
      return kExitConfig;
    }
  }
  if (!o.file.empty()) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
      std::cerr << "helm receipts verify: cannot read " << o.file << "\n";
      return kExitConfig;
    }
    // One receipt per line (docs/receipts.md §7): an empty line fails, it is not skipped.
    for (std::string line; std::getline(in, line);) verifier.Add(line);
  } else {
    auto ledger = Ledger::OpenReadOnly(o.data_dir + "/ledger");
    if (!ledger.ok()) {
      std::cerr << "helm receipts verify: " << ledger.error().message << "\n";
      return ledger.error().code == ErrorCode::kCorruption ? kExitTampered : kExitConfig;
    }
    verifier.ExpectWholeLedger((*ledger)->HeadSeq(), (*ledger)->HeadHash());
    Status read = (*ledger)->ForEach(1, UINT64_MAX, [&](uint64_t, std::string_view stored) {
      verifier.Add(stored);
      return true;
    });
    if (!read.ok()) verifier.ReadFailed(read.error().message);
  }
  receipt::VerifyReport report = verifier.Finish();
  PrintReport(report, o.format);
  if (!report.integrity_ok) return kExitTampered;
  if (!report.trust_ok) return kExitUntrusted;
  return kExitOk;
}

int RunReceiptsExport(const ExportOptions& o) {
  auto ledger = Ledger::OpenReadOnly(o.data_dir + "/ledger");
  if (!ledger.ok()) {
    std::cerr << "helm receipts export: " << ledger.error().message << "\n";
    return kExitConfig;
  }
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::cerr << "helm receipts export: cannot write " << o.out << "\n";
    return kExitFailure;
  }
  uint64_t n = 0;
  Status read = (*ledger)->ForEach(o.from, o.to, [&](uint64_t, std::string_view stored) {
    out << stored << "\n";
    ++n;
    return static_cast<bool>(out);
  });
  out.flush();
  if (!read.ok()) {
    std::cerr << "helm receipts export: " << read.error().message << "\n"
              << "helm receipts export: " << o.out << " is incomplete: it ends after " << n
              << " receipts\n";
    return kExitFailure;
  }
  if (!out) {
    std::cerr << "helm receipts export: write failed\n";
    return kExitFailure;
  }
  std::cerr << "helm: exported " << n << " receipts to " << o.out << "\n";
  return kExitOk;
}

int RunPolicyCheck(const std::string& file, Format format) {
  auto policy = Policy::LoadFile(file);
  if (!policy.ok()) {
    std::cerr << policy.error().message << "\n";
    return kExitConfig;
  }
  const Policy& p = **policy;
  if (format == Format::kJson) {
    std::cout << DumpJson({{"ok", true}, {"id", p.id()}, {"version", p.version()},
                           {"hash", p.hash()}, {"rules", p.rule_count()}})
              << "\n";
  } else {
    std::cout << "policy " << p.id() << " v" << p.version() << ": OK (" << p.rule_count()
              << " rules, " << p.hash() << ")\n";
  }
  return kExitOk;
}

int RunVersion(Format format) {
  crypto::Init();
  Json v{{"version", HELM_VERSION},
         {"build", __DATE__ " " __TIME__},
         {"libraries",
          {{"rocksdb", RocksDbVersion()}, {"libsodium", crypto::SodiumVersion()},
           {"openssl", OPENSSL_VERSION_TEXT}}}};
  if (format == Format::kJson) {
    std::cout << DumpJson(v) << "\n";
  } else {
    std::cout << "helm " << HELM_VERSION << " (built " << v["build"].get<std::string>() << ")\n"
              << "  rocksdb " << RocksDbVersion() << ", libsodium " << crypto::SodiumVersion()
              << ", " << OPENSSL_VERSION_TEXT << "\n";
  }
  return kExitOk;
}

}  // namespace helm::app

namespace helm::app {

int RunPolicyTest(const std::string& file, const std::string& vectors_dir, Format format) {
  auto policy = Policy::LoadFile(file);
  if (!policy.ok()) {
    std::cerr << policy.error().message << "\n";
    return kExitConfig;
  }
  auto report = RunVectors(**policy, vectors_dir);
  if (!report.ok()) {
    std::cerr << report.error().message << "\n";
    return kExitConfig;
  }
  std::cout << (format == Format::kJson ? DumpJson(report->ToJson()) + "\n" : report->ToText());
  return report->ok() ? kExitOk : kExitFailure;
}

}  // namespace helm::app
