#include "core/ledger/direct_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace helm::ledger_internal {

bool DirectWritesWork(const std::string& dir) {
  // 4 KiB: the logical block size of nearly every device, and a multiple of
  // the others'. RocksDB aligns its own direct writes to the device's.
  constexpr size_t kBlock = 4096;
  const int fd = open(dir.c_str(), O_TMPFILE | O_WRONLY | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  void* block = std::aligned_alloc(kBlock, kBlock);
  bool written = false;
  if (block != nullptr) {
    std::memset(block, 0, kBlock);
    written = pwrite(fd, block, kBlock, 0) == static_cast<ssize_t>(kBlock);
    std::free(block);
  }
  close(fd);
  return written;
}

}  // namespace helm::ledger_internal
