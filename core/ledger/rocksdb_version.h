#pragma once

#include <string>

namespace helm {

// The linked RocksDB's version, e.g. "7.8.3".
std::string RocksDbVersion();

}  // namespace helm
