// ConfigWatcher on a real filesystem: ConfigMap updates laid out exactly as
// kubelet's AtomicWriter does them (seen through inotify, and through polling
// alone), in-place edits of a plain file, paths that vanish or do not exist
// yet, and a Stop() that does not wait for the poll interval.
#include "real/pod/config_watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "testsupport/temp_dir.h"

namespace scaletwin {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Long enough that a change noticed within kNoticeDeadline cannot be the
// periodic check's doing.
constexpr Nanos kNoPolling = 60 * kNanosPerSecond;
constexpr auto kNoticeDeadline = milliseconds(2000);

testing::AssertionResult Errno(const std::string& what) {
  return testing::AssertionFailure() << what << ": " << std::strerror(errno);
}

testing::AssertionResult WriteFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + path);
  ssize_t n = write(fd, content.data(), content.size());
  close(fd);
  if (n != static_cast<ssize_t>(content.size())) return Errno("write " + path);
  return testing::AssertionSuccess();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A ConfigMap volume with one key, config.json, written the way kubelet's
// AtomicWriter writes it: each version in a fresh timestamped directory
// `..2026_12_03_18_00_00.<n>`, published by renaming a `..data_tmp` symlink
// over `..data`; the visible `config.json` is a symlink to `..data/config.json`
// created once; the previous timestamped directory is removed last.
class ConfigMapVolume {
 public:
  explicit ConfigMapVolume(std::string dir) : dir_(std::move(dir)) {}

  std::string path() const { return dir_ + "/config.json"; }

  testing::AssertionResult Write(const std::string& content) {
    char name[64];
    ++generation_;
    std::snprintf(name, sizeof(name), "..2026_12_03_18_00_%02d.%09d", generation_ % 60, 123456780 + generation_);
    const std::string ts_dir = dir_ + "/" + name;
    if (mkdir(ts_dir.c_str(), 0755) != 0) return Errno("mkdir " + ts_dir);
    if (auto r = WriteFile(ts_dir + "/config.json", content); !r) return r;
    const std::string tmp = dir_ + "/..data_tmp";
    if (symlink(name, tmp.c_str()) != 0) return Errno("symlink " + tmp);
    if (rename(tmp.c_str(), (dir_ + "/..data").c_str()) != 0) return Errno("rename ..data_tmp");
    if (access(path().c_str(), F_OK) != 0 && symlink("..data/config.json", path().c_str()) != 0) {
      return Errno("symlink " + path());
    }
    if (!previous_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_ + "/" + previous_, ec);
      if (ec) return testing::AssertionFailure() << "remove " << previous_ << ": " << ec.message();
    }
    previous_ = name;
    return testing::AssertionSuccess();
  }

 private:
  std::string dir_;
  std::string previous_;  // the timestamped directory ..data points at
  int generation_ = 0;
};

// The on_change callback: counts calls and records what the file said at
// each, so a test can tell the callback ran after the new version was visible.
class ChangeLog {
 public:
  explicit ChangeLog(std::string path) : path_(std::move(path)) {}

  std::function<void()> Callback() {
    return [this] {
      std::string content = ReadFile(path_);
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      last_content_ = std::move(content);
      cv_.notify_all();
    };
  }

  // True iff at least `n` calls happened within `deadline`.
  bool WaitForCalls(int n, milliseconds deadline = kNoticeDeadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, deadline, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::string last_content() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_content_;
  }

 private:
  const std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  std::string last_content_;
};

template <typename Pred>
bool Eventually(Pred pred, milliseconds deadline = kNoticeDeadline) {
  auto until = SteadyClock::now() + deadline;
  while (!pred()) {
    if (SteadyClock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

TEST(ConfigWatcher, SymlinkSwapIsNoticedWithInotify) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ASSERT_TRUE(volume.Write(R"({"version": 1})"));
  ChangeLog log(volume.path());
  ConfigWatcher watcher({.path = volume.path(), .poll_interval = kNoPolling}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());
  ASSERT_TRUE(watcher.inotify_active());

  ASSERT_TRUE(volume.Write(R"({"version": 2})"));

  ASSERT_TRUE(log.WaitForCalls(1)) << "swap not noticed within 2 s with a 60 s poll interval";
  EXPECT_EQ(log.last_content(), R"({"version": 2})");

  // A watch on the file itself would have died with the old directory; the
  // directory watch sees the next swap as well.
  ASSERT_TRUE(volume.Write(R"({"version": 3})"));
  ASSERT_TRUE(log.WaitForCalls(2)) << "second swap not noticed";
  EXPECT_EQ(log.last_content(), R"({"version": 3})");
  EXPECT_EQ(watcher.changes_seen(), 2u);
}

TEST(ConfigWatcher, SymlinkSwapIsNoticedByPollingWhenInotifyIsOff) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ASSERT_TRUE(volume.Write(R"({"version": 1})"));
  ChangeLog log(volume.path());
  ConfigWatcher watcher({.path = volume.path(), .poll_interval = 50 * kNanosPerMilli, .use_inotify = false},
                        log.Callback());
  ASSERT_TRUE(watcher.Start().ok());
  EXPECT_FALSE(watcher.inotify_active());

  ASSERT_TRUE(volume.Write(R"({"version": 2})"));

  ASSERT_TRUE(log.WaitForCalls(1));
  EXPECT_EQ(log.last_content(), R"({"version": 2})");
}

// A swap is a CREATE (new directory), CREATE (..data_tmp), MOVED_FROM,
// MOVED_TO and DELETE (old directory); with a 10 ms poll on top, the watcher
// fingerprints many times per swap and must still report each swap once.
TEST(ConfigWatcher, OneSwapIsOneChange) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ASSERT_TRUE(volume.Write(R"({"version": 1})"));
  ChangeLog log(volume.path());
  ConfigWatcher watcher({.path = volume.path(), .poll_interval = 10 * kNanosPerMilli}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());

  ASSERT_TRUE(volume.Write(R"({"version": 2})"));
  ASSERT_TRUE(log.WaitForCalls(1));
  std::this_thread::sleep_for(milliseconds(150));  // let late events and polls run
  EXPECT_EQ(log.calls(), 1);

  ASSERT_TRUE(volume.Write(R"({"version": 3})"));
  ASSERT_TRUE(log.WaitForCalls(2));
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_EQ(log.calls(), 2);
  EXPECT_EQ(watcher.changes_seen(), 2u);
  EXPECT_EQ(log.last_content(), R"({"version": 3})");
}

TEST(ConfigWatcher, InPlaceEditOfAPlainFileIsNoticed) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(WriteFile(path, R"({"limit": 10})"));
  ChangeLog log(path);
  ConfigWatcher watcher({.path = path, .poll_interval = kNoPolling}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());

  ASSERT_TRUE(WriteFile(path, R"({"limit": 100})"));

  // The truncate and the write are separate events, so the watcher may also
  // have seen the empty file in between; the last report is the final state.
  ASSERT_TRUE(Eventually([&] { return log.last_content() == R"({"limit": 100})"; }));
  EXPECT_GE(watcher.changes_seen(), 1u);
}

// Same inode, same size, mtime put back: only the content hash can tell.
TEST(ConfigWatcher, SameSizeEditWithRestoredMtimeIsNoticed) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(WriteFile(path, R"({"limit": 10})"));
  struct stat before;
  ASSERT_EQ(stat(path.c_str(), &before), 0);
  ChangeLog log(path);
  ConfigWatcher watcher({.path = path, .poll_interval = 20 * kNanosPerMilli, .use_inotify = false}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());

  ASSERT_TRUE(WriteFile(path, R"({"limit": 20})"));
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);

  ASSERT_TRUE(log.WaitForCalls(1));
  EXPECT_EQ(log.last_content(), R"({"limit": 20})");
}

// Events about other files in the directory make the watcher look again, but
// the fingerprint is the same, so nothing is reported.
TEST(ConfigWatcher, NoChangeMeansNoCallback) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ASSERT_TRUE(volume.Write(R"({"version": 1})"));
  ChangeLog log(volume.path());
  ConfigWatcher watcher({.path = volume.path(), .poll_interval = 20 * kNanosPerMilli}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());

  ASSERT_TRUE(WriteFile(tmp.path() + "/unrelated.txt", "x"));
  ASSERT_EQ(unlink((tmp.path() + "/unrelated.txt").c_str()), 0);
  std::this_thread::sleep_for(milliseconds(300));

  EXPECT_EQ(log.calls(), 0);
  EXPECT_EQ(watcher.changes_seen(), 0u);
}

TEST(ConfigWatcher, StopIsPromptEvenWithALongPollInterval) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ASSERT_TRUE(volume.Write(R"({"version": 1})"));
  for (bool use_inotify : {true, false}) {
    SCOPED_TRACE(use_inotify ? "inotify" : "polling only");
    ConfigWatcher watcher({.path = volume.path(), .poll_interval = kNoPolling, .use_inotify = use_inotify}, nullptr);
    ASSERT_TRUE(watcher.Start().ok());
    std::this_thread::sleep_for(milliseconds(20));  // let the thread block in poll(2)

    auto start = SteadyClock::now();
    watcher.Stop();
    EXPECT_LT(SteadyClock::now() - start, milliseconds(500));
    watcher.Stop();  // idempotent; the destructor stops a third time
  }
}

TEST(ConfigWatcher, PathMissingAtStartIsReportedOnceItAppears) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  ConfigMapVolume volume(tmp.path());
  ChangeLog log(volume.path());
  ConfigWatcher watcher({.path = volume.path(), .poll_interval = kNoPolling}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());
  EXPECT_TRUE(watcher.inotify_active());  // the directory exists, so it is watched

  ASSERT_TRUE(volume.Write(R"({"version": 1})"));

  ASSERT_TRUE(log.WaitForCalls(1));
  EXPECT_EQ(log.last_content(), R"({"version": 1})");
}

// Not even the directory exists at Start(): polling finds the file, and the
// inotify watch is put in place as soon as the directory can be watched.
TEST(ConfigWatcher, DirectoryMissingAtStartIsWatchedOnceItAppears) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/shortener";
  const std::string path = dir + "/config.json";
  ChangeLog log(path);
  ConfigWatcher watcher({.path = path, .poll_interval = 50 * kNanosPerMilli}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());
  EXPECT_FALSE(watcher.inotify_active());

  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(path, R"({"version": 1})"));

  ASSERT_TRUE(log.WaitForCalls(1));
  EXPECT_TRUE(Eventually([&] { return watcher.inotify_active(); }));
}

// Deleted, then back with other content: the gap itself is not reported, the
// return is.
TEST(ConfigWatcher, VanishedPathIsNotAChangeUntilItReturns) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string path = tmp.path() + "/config.json";
  ASSERT_TRUE(WriteFile(path, R"({"version": 1})"));
  ChangeLog log(path);
  ConfigWatcher watcher({.path = path, .poll_interval = 20 * kNanosPerMilli}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());

  ASSERT_EQ(unlink(path.c_str()), 0);
  std::this_thread::sleep_for(milliseconds(150));
  EXPECT_EQ(log.calls(), 0);

  // Written to a side file and renamed in, so the only possible report is
  // the final content.
  ASSERT_TRUE(WriteFile(path + ".new", R"({"version": 2})"));
  ASSERT_EQ(rename((path + ".new").c_str(), path.c_str()), 0);
  ASSERT_TRUE(log.WaitForCalls(1));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(log.calls(), 1);
  EXPECT_EQ(log.last_content(), R"({"version": 2})");
}

// The directory holding path is atomically exchanged for another one: the old
// watch follows the old directory to its new name (IN_MOVE_SELF), so the
// watcher must drop it, watch what is at the path now and report the new
// file. With a 60 s poll interval only inotify can do all of that in time.
TEST(ConfigWatcher, ReplacedDirectoryIsNoticedAndWatchedAgain) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.path() + "/shortener";
  const std::string other = tmp.path() + "/shortener.new";
  const std::string path = dir + "/config.json";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(path, R"({"version": 1})"));
  ASSERT_EQ(mkdir(other.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(other + "/config.json", R"({"version": 2})"));
  ChangeLog log(path);
  ConfigWatcher watcher({.path = path, .poll_interval = kNoPolling}, log.Callback());
  ASSERT_TRUE(watcher.Start().ok());
  ASSERT_TRUE(watcher.inotify_active());

  if (renameat2(AT_FDCWD, dir.c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE) != 0) {
    GTEST_SKIP() << "renameat2(RENAME_EXCHANGE) unsupported here: " << std::strerror(errno);
  }

  ASSERT_TRUE(log.WaitForCalls(1));
  EXPECT_EQ(log.last_content(), R"({"version": 2})");
  // The change can be reported before the watcher has read IN_MOVE_SELF and
  // IN_IGNORED; an edit racing with those would be seen by the re-check they
  // cause, watch or no watch. Let them be processed first.
  std::this_thread::sleep_for(milliseconds(100));
  ASSERT_TRUE(Eventually([&] { return watcher.inotify_active(); }));
  // The directory now at the path is the one watched: an in-place edit there
  // (no rename in the parent, so only the new watch can see it) is reported.
  ASSERT_TRUE(WriteFile(path, R"({"version": 3})"));
  EXPECT_TRUE(Eventually([&] { return log.last_content() == R"({"version": 3})"; }));
}

TEST(ConfigWatcher, StartRejectsBadOptionsAndASecondStart) {
  ConfigWatcher no_path({.path = ""}, nullptr);
  EXPECT_EQ(no_path.Start().code(), StatusCode::kInvalidArgument);
  ConfigWatcher no_interval({.path = "/nonexistent/config.json", .poll_interval = 0}, nullptr);
  EXPECT_EQ(no_interval.Start().code(), StatusCode::kInvalidArgument);

  ConfigWatcher twice({.path = "/nonexistent/config.json"}, nullptr);
  ASSERT_TRUE(twice.Start().ok());
  EXPECT_EQ(twice.Start().code(), StatusCode::kFailedPrecondition);
  twice.Stop();
  EXPECT_EQ(twice.Start().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace scaletwin
