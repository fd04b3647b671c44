// Replay driver for builds without libFuzzer: feeds every file under the given paths to
// LLVMFuzzerTestOneInput once, so seed corpora run as regression tests under gcc and ASan.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

int main(int argc, char** argv) {
  size_t files = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path root(argv[i]);
    if (std::filesystem::is_regular_file(root)) {
      run_file(root);
      ++files;
      continue;
    }
    if (!std::filesystem::is_directory(root)) {
      std::fprintf(stderr, "replay: %s is not a file or directory\n", argv[i]);
      return 1;
    }
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_regular_file()) {
        run_file(e.path());
        ++files;
      }
    }
  }
  // An empty corpus would make this test vacuous.
  if (files == 0) {
    std::fprintf(stderr, "replay: no seed files found\n");
    return 1;
  }
  std::printf("replay: %zu inputs ran cleanly\n", files);
  return 0;
}
