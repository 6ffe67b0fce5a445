#include "core/boundary/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace helm {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<crypto::KeyPair> LoadOrCreateSigningKey(const std::string& keys, bool* created) {
  std::string key_path = keys + "/signing.key";
  *created = false;
  if (!std::filesystem::exists(key_path)) {
    crypto::KeyPair kp = crypto::GenerateKeyPair();
    if (Status s = WriteSecretFile(key_path, crypto::HexEncode(kp.secret_key) + "\n"); !s.ok()) {
      return s.error();
    }
    if (Status s = WriteSecretFile(keys + "/signing.pub", crypto::HexEncode(kp.public_key) + "\n");
        !s.ok()) {
      return s.error();
    }
    *created = true;
    return kp;
  }
  auto text = ReadFileToString(key_path);
  if (!text.ok()) return text.error();
  auto secret = crypto::HexDecode(Trim(*text));
  if (!secret.ok() || secret->size() != crypto::kSecretKeyBytes) {
    return MakeError(ErrorCode::kConfig, key_path + ": not a hex Ed25519 secret key");
  }
  if (!crypto::SecretKeyConsistent(*secret)) {
    return MakeError(ErrorCode::kConfig,
                     key_path + ": damaged: its public half is not the one its seed derives");
  }
  // libsodium's secret key layout is seed || public key.
  return crypto::KeyPair{secret->substr(32), *secret};
}

Result<std::string> LoadOrCreateToken(const std::string& path, const char* prefix, bool* created) {
  *created = false;
  if (std::filesystem::exists(path)) {
    auto text = ReadFileToString(path);
    if (!text.ok()) return text.error();
    return Trim(*text);
  }
  std::string token = prefix + crypto::Base64UrlEncode(crypto::RandomBytes(32));
  if (Status s = WriteSecretFile(path, token + "\n"); !s.ok()) return s.error();
  *created = true;
  return token;
}

}  // namespace

Status WriteSecretFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kConfig, tmp + ": " + std::strerror(errno));
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return MakeError(ErrorCode::kConfig, path + ": cannot write: " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<DataDir> OpenDataDir(const std::string& root) {
  crypto::Init();
  DataDir dir;
  dir.root = root;
  std::error_code ec;
  std::filesystem::create_directories(dir.KeysPath(), ec);
  if (ec) return MakeError(ErrorCode::kConfig, dir.KeysPath() + ": " + ec.message());
  ::chmod(dir.KeysPath().c_str(), 0700);

  auto key = LoadOrCreateSigningKey(dir.KeysPath(), &dir.created_signing_key);
  if (!key.ok()) return key.error();
  dir.signing_key = std::move(key.value());

  if (const char* env = std::getenv("HELM_ADMIN_TOKEN"); env != nullptr && *env != '\0') {
    dir.admin_token = env;
  } else {
    bool created = false;
    auto token = LoadOrCreateToken(dir.KeysPath() + "/admin.token", "hat_", &created);
    if (!token.ok()) return token.error();
    dir.admin_token = *token;
  }
  auto bootstrap =
      LoadOrCreateToken(dir.KeysPath() + "/bootstrap.key", "hk_", &dir.created_bootstrap_key);
  if (!bootstrap.ok()) return bootstrap.error();
  dir.bootstrap_key = *bootstrap;
  return dir;
}

Result<std::string> ReadPublicKeyHex(const std::string& root) {
  auto text = ReadFileToString(root + "/keys/signing.pub");
  if (!text.ok()) return text.error();
  return Trim(*text);
}

}  // namespace helm
