// The data directory: <dir>/keys (signing key, admin token, bootstrap key,
// all mode 0600), <dir>/ledger and <dir>/state. First use creates the keys;
// later uses read them. Not thread-safe (called once at startup).
#pragma once

#include <string>

#include "core/common/result.h"
#include "core/crypto/crypto.h"

namespace helm {

struct DataDir {
  std::string root;
  crypto::KeyPair signing_key;
  std::string admin_token;              // HELM_ADMIN_TOKEN if set, else keys/admin.token
  std::string bootstrap_key;            // the bootstrap API key secret (agent root)
  bool created_signing_key = false;
  bool created_bootstrap_key = false;   // print the secret once, on the start that made it

  std::string LedgerPath() const { return root + "/ledger"; }
  std::string StatePath() const { return root + "/state"; }
  std::string KeysPath() const { return root + "/keys"; }
};

// Opens (or initialises) a data dir for a server. kConfig when the dir is not
// usable (not writable, unreadable or malformed key files).
Result<DataDir> OpenDataDir(const std::string& root);

// Reads keys/signing.pub (hex) of a stopped data dir; for offline commands.
Result<std::string> ReadPublicKeyHex(const std::string& root);

// Writes `content` to `path` with mode 0600, atomically (temp file + rename).
Status WriteSecretFile(const std::string& path, const std::string& content);
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace helm
