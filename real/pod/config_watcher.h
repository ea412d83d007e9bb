// ConfigWatcher: tells the pod that the config file it reads has changed, the
// way Kubernetes actually changes a mounted ConfigMap, so the pod can reload
// without a restart.
//
// Why not watch the file: kubelet's AtomicWriter never writes a mounted file
// in place. `dir/config.json` is a symlink to `..data/config.json`, `..data` a
// symlink to a timestamped directory; an update writes a new timestamped
// directory, renames a `..data_tmp` symlink over `..data` and deletes the old
// directory (reference/platform.md §6). A watch on the file's inode sees no
// write, only its deletion, and then nothing ever again. So this unit:
// - watches the *directory containing path* with inotify (the rename of
//   `..data` happens there), and treats any event as "look again";
// - also looks again every `poll_interval`, the fallback for when inotify is
//   off or unavailable (watch limit, filesystems without it) or misses
//   something (the directory itself replaced, queue overflow, a symlink that
//   points outside the directory);
// - "looking" means taking a fingerprint of what `path` resolves to now: the
//   realpath(3), st_dev/st_ino, st_size and st_mtim of the resolved file and
//   an FNV-1a hash of its first 4 MiB (ConfigMaps hold at most 1 MiB). The
//   hash is what catches a same-size in-place edit inside one mtime tick.
//
// Contract:
// - on_change runs once per fingerprint that differs from the last one seen,
//   not once per inotify event (one swap produces several); A -> B -> A is two
//   changes. It runs on the watcher thread, never concurrently with itself.
// - The baseline is taken inside Start(): a change that happens after Start()
//   returns is reported; the state at Start() is not.
// - A path that does not resolve (mid-swap, deleted, not yet created,
//   unreadable) is not a change: the last fingerprint is kept, and the next
//   time the path resolves to something different, that is reported. A path
//   missing at Start() is therefore reported as soon as it appears.
// - A writer that edits the file in place non-atomically (truncate, then
//   write) can be observed half-way; each distinct state observed is a change.
//   Readers should keep their last good config when a reload fails to parse.
// - Latency: roughly the inotify delivery time with inotify active, else up
//   to poll_interval. Each event costs one fingerprint (a stat and a read of
//   the file), so do not point it at a directory with constant churn.
//
//   ConfigWatcher watcher({.path = "/etc/shortener/config.json"}, [&] { reloads.Request(); });
//   Status s = watcher.Start();                 // InvalidArgument, or IOError if no eventfd
//   if (!s.ok()) return s;
//   ...
//   watcher.Stop();                             // or let the destructor do it
//
// Thread-safety: Start() and Stop() may be called from any thread, but not
// from inside on_change (Stop() would join the thread it runs on).
// changes_seen() and inotify_active() are safe from any thread at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "model/duration.h"
#include "model/status.h"

namespace scaletwin {

struct ConfigWatcherOptions {
  // The file the pod reads, e.g. /etc/shortener/config.json. May be a symlink
  // (chain); need not exist yet.
  std::string path = {};
  // How often to re-fingerprint regardless of inotify. REQUIRES: > 0.
  Nanos poll_interval = 1 * kNanosPerSecond;
  // false: polling only (also the fallback when inotify cannot be set up).
  bool use_inotify = true;
};

class ConfigWatcher {
 public:
  // Does nothing until Start(). on_change may be empty (then only
  // changes_seen() moves).
  ConfigWatcher(ConfigWatcherOptions options, std::function<void()> on_change);
  ~ConfigWatcher();  // Stop()
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  // Takes the baseline fingerprint and starts the watcher thread.
  // InvalidArgument on an empty path or a non-positive poll_interval;
  // FailedPrecondition if Start() was already called (a watcher runs once);
  // IOError if the wake-up eventfd or the thread cannot be created. Failing to
  // set up inotify is not an error: the watcher polls and inotify_active() is
  // false. A directory that cannot be watched yet (it does not exist) is
  // retried on every poll, and so is one whose watch was lost.
  Status Start();

  // Wakes and joins the watcher thread; returns promptly whatever
  // poll_interval is. Idempotent; a no-op before Start(). No on_change runs
  // after it returns.
  void Stop();

  // Changes reported so far; incremented just before on_change is called.
  uint64_t changes_seen() const { return changes_seen_.load(std::memory_order_relaxed); }
  // True while an inotify watch on the directory containing path is in place.
  bool inotify_active() const { return inotify_active_.load(std::memory_order_relaxed); }

 private:
  // What path resolves to at one instant. Plain value; equal iff "no change".
  struct Fingerprint {
    std::string real_path;
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_sec = 0;
    int64_t mtime_nsec = 0;
    uint64_t content_hash = 0;
    bool operator==(const Fingerprint&) const = default;
  };

  // nullopt when the path does not currently resolve to something readable.
  std::optional<Fingerprint> TakeFingerprint() const;
  // Re-fingerprints; reports a change if there is a new, different one.
  void CheckForChange();
  // Adds the directory watch if inotify is on and no watch is in place.
  void EnsureWatch();
  // Reads every queued event; drops the watch if the directory went away.
  void DrainEvents();
  void Run();
  void CloseFds();

  const ConfigWatcherOptions options_;
  const std::string watched_dir_;
  const std::function<void()> on_change_;

  std::mutex lifecycle_mu_;  // serialises Start() and Stop()
  bool started_ = false;     // guarded by lifecycle_mu_
  std::thread thread_;       // guarded by lifecycle_mu_

  // Set up in Start() before the thread exists, closed in Stop() after it is
  // joined; only the watcher thread touches them in between.
  int wake_fd_ = -1;     // eventfd; readable once Stop() wants the thread out
  int inotify_fd_ = -1;  // -1 when inotify is off or could not be initialised
  int watch_ = -1;       // inotify watch descriptor of watched_dir_, or -1
  std::optional<Fingerprint> last_;

  std::atomic<uint64_t> changes_seen_{0};
  std::atomic<bool> inotify_active_{false};
};

}  // namespace scaletwin
