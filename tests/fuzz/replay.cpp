// Runs a fuzz target over saved inputs, without libFuzzer: the corpus replay
// tier of .ci/run (RELIABILITY.md). Linked with one tests/fuzz/fuzz_NAME.cpp
// into helm_replay_NAME by the normal (gcc) build; a target aborts on the
// first property it finds broken, which fails the test.
//
//   helm_replay_NAME [--every-first-byte] PATH...
//
// PATH: a file or a directory (its files, recursively, in name order).
// --every-first-byte: each file is the input without its selector byte (a
// request body, say): run it behind every value of that byte, so that it goes
// through every protocol or mode the target picks with it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

void Run(std::string_view input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  bool every_first_byte = false;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--every-first-byte") {
      every_first_byte = true;
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else if (fs::is_regular_file(arg, ec)) {
      files.emplace_back(arg);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  size_t runs = 0;
  std::string bytes;
  for (const fs::path& file : files) {
    if (!ReadFile(file, &bytes)) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s\n", file.c_str());  // names the input a crash came from
    if (!every_first_byte) {
      Run(bytes);
      ++runs;
      continue;
    }
    std::string input = " " + bytes;
    for (int first = 0; first < 256; ++first) {
      input[0] = static_cast<char>(first);
      Run(input);
      ++runs;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  std::printf("replayed %zu inputs from %zu files\n", runs, files.size());
  return 0;
}
