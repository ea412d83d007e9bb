// TempDir: a fresh directory under the system temp dir for one test, removed
// with everything in it when the object goes.
//
// Contract: path() is the directory, or empty when mkdtemp failed (the test
// should ASSERT on it). The name is `<prefix>-XXXXXX`, so a leftover after a
// crash says which test left it.
#pragma once

#include <string>
#include <string_view>

namespace scaletwin {

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "scaletwin-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace scaletwin
