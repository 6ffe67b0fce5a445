// Whether a directory's filesystem takes direct (O_DIRECT) writes. The
// ledger writes its table files that way where it can (docs/ledger.md,
// "Table files bypass the page cache").
#pragma once

#include <string>

namespace helm::ledger_internal {

// True when an unnamed file in `dir` (O_TMPFILE: nothing is left behind,
// even on a crash) opens with O_DIRECT and takes an aligned 4 KiB write.
// False for anything else: a filesystem without O_DIRECT or O_TMPFILE, a
// missing or read-only directory.
bool DirectWritesWork(const std::string& dir);

}  // namespace helm::ledger_internal
