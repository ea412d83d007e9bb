// JsonLogger: the real shortener pod's structured log — one JSON object per
// line, so Loki, Elasticsearch or `kubectl logs | jq` read it with no parsing
// configuration. Also the request ids that tie a request's lines together.
//
//   JsonLogger log({.pod = "shortener-7d9f-x2x1"});            // to stdout
//   log.Info("listening", {{"port", 8080}});
//   if (log.Enabled(LogLevel::kDebug)) log.Debug("cache miss", {{"code", code}, {"request_id", id}});
//   log.set_min_level(*ParseLogLevel("warn"));                  // hot reload
//   std::string id = IsAcceptableRequestId(header) ? std::string(header) : NewRequestId();
//
// Line contract: `{"ts":"2026-12-03T18:04:05.123Z","level":"info","msg":"...","pod":"...",<fields>}`.
// - The four fixed fields come first, in this order; ts is RFC 3339 UTC with
//   milliseconds (FormatLogTimestamp) from the injected clock.
// - The caller's fields (a JSON object) follow in nlohmann::json's key order
//   (sorted); a field named ts, level, msg or pod is dropped: the fixed ones
//   win. Fields that are not an object (and not null) go under "fields".
// - Strings are escaped by nlohmann::json, so a newline in a value never
//   breaks the line; invalid UTF-8 is replaced by U+FFFD instead of throwing.
// - A line is one write(2) of the line and its "\n" under the logger's mutex
//   (continued after a partial write, retried on EINTR), so lines from many
//   threads of this process never interleave. Lines from other processes on
//   the same pipe could only split a line longer than PIPE_BUF (4096 bytes).
// - Logging never throws and never aborts. A line that cannot be written
//   (EPIPE, EBADF, EAGAIN on a non-blocking fd, a throwing sink or clock) is
//   dropped and counted in dropped_lines(); a line cut by a failed partial
//   write is counted too, and the next line then starts mid-line. Unless the
//   process ignores SIGPIPE (checked at construction), each write blocks
//   SIGPIPE in the writing thread and discards the one an EPIPE raised.
//
// Thread-safety: every method may be called from any thread. Enabled and
// set_min_level are lock-free (a relaxed atomic), so the hot path pays one
// load for a line it does not log. The sink runs under the logger's mutex;
// the clock runs outside it on every logging thread, so must be thread-safe.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace scaletwin {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
const char* LogLevelName(LogLevel level);
// The inverse of LogLevelName, ASCII case-insensitive, also accepting
// "warning"; nullopt for anything else (e.g. from a hot-reloaded config).
std::optional<LogLevel> ParseLogLevel(std::string_view text);

// "2026-12-03T18:04:05.123Z": UTC, milliseconds truncated toward the past.
// REQUIRES: a year in 0000..9999.
std::string FormatLogTimestamp(std::chrono::system_clock::time_point t);

struct JsonLoggerOptions {
  std::string pod;  // the "pod" field of every line
  LogLevel min_level = LogLevel::kInfo;
  // Where lines go when `sink` is empty. Not owned: the caller keeps it open
  // for the logger's life.
  int fd = STDOUT_FILENO;
  // For tests: receives each line without its trailing "\n", under the
  // logger's mutex (so it need not be thread-safe). Replaces `fd`.
  std::function<void(std::string_view line)> sink;
  // For tests: the time of each line; std::chrono::system_clock::now if empty.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class JsonLogger {
 public:
  explicit JsonLogger(JsonLoggerOptions options);
  JsonLogger(const JsonLogger&) = delete;
  JsonLogger& operator=(const JsonLogger&) = delete;

  // True iff a line at `level` would be written: check it before building
  // expensive fields.
  bool Enabled(LogLevel level) const { return level >= min_level(); }
  LogLevel min_level() const { return min_level_.load(std::memory_order_relaxed); }
  void set_min_level(LogLevel level) { min_level_.store(level, std::memory_order_relaxed); }

  // Writes one line if Enabled(level). `fields`: a JSON object (or null for
  // none) merged after the fixed fields.
  void Log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nullptr) noexcept;
  void Debug(std::string_view msg, const nlohmann::json& fields = nullptr) noexcept {
    Log(LogLevel::kDebug, msg, fields);
  }
  void Info(std::string_view msg, const nlohmann::json& fields = nullptr) noexcept {
    Log(LogLevel::kInfo, msg, fields);
  }
  void Warn(std::string_view msg, const nlohmann::json& fields = nullptr) noexcept {
    Log(LogLevel::kWarn, msg, fields);
  }
  void Error(std::string_view msg, const nlohmann::json& fields = nullptr) noexcept {
    Log(LogLevel::kError, msg, fields);
  }

  // Lines that were enabled but could not be formatted or written in full.
  uint64_t dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }

 private:
  // The line without "\n". May throw (allocation, a throwing clock).
  std::string FormatLine(LogLevel level, std::string_view msg, const nlohmann::json& fields) const;
  // True iff the whole of `data` was written. Caller holds mu_.
  bool WriteAllLocked(std::string_view data);

  const std::string pod_json_;  // the pod name, already a JSON string literal
  const int fd_;
  const std::function<void(std::string_view)> sink_;
  const std::function<std::chrono::system_clock::time_point()> clock_;
  const bool guard_sigpipe_;  // false when the process ignores SIGPIPE
  std::atomic<LogLevel> min_level_;
  std::atomic<uint64_t> dropped_lines_{0};
  std::mutex mu_;  // one line at a time to fd_ or sink_
};

// A fresh request id: 16 random bytes as 32 lowercase hex digits. Fast and
// thread-safe (a per-thread std::mt19937_64 seeded from std::random_device);
// unique in practice, not secret.
std::string NewRequestId();

// True iff a client's X-Request-Id may be used as is: 1..128 characters of
// [A-Za-z0-9._:-]. Anything else (quotes, spaces, control characters,
// non-ASCII) gets a NewRequestId instead, so a header cannot forge log fields
// or blow up the line.
bool IsAcceptableRequestId(std::string_view id);

}  // namespace scaletwin
