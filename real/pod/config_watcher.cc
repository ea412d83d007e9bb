#include "real/pod/config_watcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

namespace scaletwin {
namespace {

// Everything that can make `path` resolve to something else happens in its
// directory: the `..data` rename (MOVED_FROM/MOVED_TO), `..data_tmp` and the
// new timestamped directory (CREATE), the old one's removal (DELETE), and for
// a plain file an in-place edit (MODIFY, CLOSE_WRITE, ATTRIB for touch/chmod).
// DELETE_SELF/MOVE_SELF say the watch no longer covers the path.
constexpr uint32_t kWatchMask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB |
                                IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF;

// ConfigMaps are capped at 1 MiB; hashing more would only cost time on every
// event. Bytes past the cap are still covered by size and mtime.
constexpr int64_t kMaxHashedBytes = 4 << 20;

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// FNV-1a, 64 bit: not for security, only to tell two versions apart.
uint64_t HashFile(int fd) {
  uint64_t h = 14695981039346656037ULL;
  std::array<unsigned char, 16384> buf;
  int64_t total = 0;
  while (total < kMaxHashedBytes) {
    size_t want = static_cast<size_t>(std::min<int64_t>(buf.size(), kMaxHashedBytes - total));
    ssize_t n = read(fd, buf.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, or an error: size and mtime still speak for the rest
    for (ssize_t i = 0; i < n; ++i) {
      h ^= buf[i];
      h *= 1099511628211ULL;
    }
    total += n;
  }
  return h;
}

int PollTimeoutMillis(Nanos interval) {
  Nanos ms = interval / kNanosPerMilli + (interval % kNanosPerMilli != 0 ? 1 : 0);  // round up, no overflow
  return static_cast<int>(std::clamp<Nanos>(ms, 1, INT_MAX));
}

}  // namespace

ConfigWatcher::ConfigWatcher(ConfigWatcherOptions options, std::function<void()> on_change)
    : options_(std::move(options)), watched_dir_(DirectoryOf(options_.path)), on_change_(std::move(on_change)) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

Status ConfigWatcher::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (options_.path.empty()) return Status::InvalidArgument("config watcher: empty path");
  if (options_.poll_interval <= 0) {
    return Status::InvalidArgument("config watcher: poll_interval must be positive for " + options_.path);
  }
  if (started_) return Status(StatusCode::kFailedPrecondition, "config watcher already started: " + options_.path);
  started_ = true;

  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) return Status::IOError(std::string("config watcher: eventfd: ") + std::strerror(errno));
  if (options_.use_inotify) inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  // The watch goes in before the baseline: a change right after the baseline
  // has then already queued an event, instead of waiting for the next poll.
  EnsureWatch();
  last_ = TakeFingerprint();
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    CloseFds();
    return Status::IOError(std::string("config watcher: cannot start thread: ") + e.what());
  }
  return Status::Ok();
}

void ConfigWatcher::Stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  // An eventfd write only fails when the counter would overflow, i.e. it is
  // already readable, which is all the thread needs.
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  thread_.join();
  CloseFds();
}

void ConfigWatcher::CloseFds() {
  if (inotify_fd_ >= 0) close(inotify_fd_);  // also drops the watch
  if (wake_fd_ >= 0) close(wake_fd_);
  inotify_fd_ = wake_fd_ = watch_ = -1;
  inotify_active_.store(false, std::memory_order_relaxed);
}

std::optional<ConfigWatcher::Fingerprint> ConfigWatcher::TakeFingerprint() const {
  char* resolved = realpath(options_.path.c_str(), nullptr);
  if (resolved == nullptr) return std::nullopt;
  Fingerprint fp;
  fp.real_path = resolved;
  free(resolved);
  // Open what realpath found, not `path`: if a swap lands in between, the
  // identity and the content still describe the same file, and the next event
  // or poll sees the swap.
  int fd = open(fp.real_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return std::nullopt;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return std::nullopt;
  }
  fp.device = st.st_dev;
  fp.inode = st.st_ino;
  fp.size = st.st_size;
  fp.mtime_sec = st.st_mtim.tv_sec;
  fp.mtime_nsec = st.st_mtim.tv_nsec;
  if (S_ISREG(st.st_mode)) fp.content_hash = HashFile(fd);
  close(fd);
  return fp;
}

void ConfigWatcher::CheckForChange() {
  std::optional<Fingerprint> now = TakeFingerprint();
  if (!now || now == last_) return;
  last_ = std::move(now);
  changes_seen_.fetch_add(1, std::memory_order_relaxed);
  if (on_change_) on_change_();
}

void ConfigWatcher::EnsureWatch() {
  if (inotify_fd_ < 0 || watch_ >= 0) return;
  // Fails while the directory does not exist; the next poll tries again.
  watch_ = inotify_add_watch(inotify_fd_, watched_dir_.c_str(), kWatchMask);
  inotify_active_.store(watch_ >= 0, std::memory_order_relaxed);
}

void ConfigWatcher::DrainEvents() {
  alignas(struct inotify_event) char buf[8192];
  bool lost_watch = false;
  for (;;) {
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: queue empty
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(buf + off);
      // After MOVE_SELF the watch follows the renamed directory, not the
      // path; after DELETE_SELF/IGNORED it is gone. Either way re-add by path.
      if (ev->wd == watch_ && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) lost_watch = true;
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
    }
  }
  if (lost_watch) {
    inotify_rm_watch(inotify_fd_, watch_);  // EINVAL if the kernel already dropped it
    watch_ = -1;
    inotify_active_.store(false, std::memory_order_relaxed);
  }
}

void ConfigWatcher::Run() {
  const int timeout_ms = PollTimeoutMillis(options_.poll_interval);
  for (;;) {
    EnsureWatch();
    // Once per wake-up, not per event: a drained burst (one swap is four or
    // more events) costs one fingerprint.
    CheckForChange();
    struct pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int rc = poll(fds, inotify_fd_ >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0) {
      // EINTR, or ENOMEM: look again shortly. A short pause, not the poll
      // interval, so that Stop() stays prompt.
      if (errno != EINTR) usleep(10'000);
      continue;
    }
    if (fds[0].revents != 0) return;
    if (inotify_fd_ >= 0 && fds[1].revents != 0) DrainEvents();
  }
}

}  // namespace scaletwin
