#include "real/telemetry/json_log.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <random>
#include <thread>

#include "real/common/sigpipe_guard.h"

namespace scaletwin {
namespace {

// A JSON string literal for `text`; invalid UTF-8 becomes U+FFFD.
std::string JsonString(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool IsFixedField(std::string_view key) { return key == "ts" || key == "level" || key == "msg" || key == "pod"; }

std::mt19937_64 SeededRng() {
  try {
    std::random_device device;
    std::seed_seq seq{device(), device(), device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seq);
  } catch (...) {
    // No entropy source: ids need only be distinct, so time and thread do.
    const uint64_t now = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    const uint64_t thread = std::hash<std::thread::id>()(std::this_thread::get_id());
    std::seed_seq seq{static_cast<uint32_t>(now), static_cast<uint32_t>(now >> 32), static_cast<uint32_t>(thread),
                      static_cast<uint32_t>(thread >> 32)};
    return std::mt19937_64(seq);
  }
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

std::optional<LogLevel> ParseLogLevel(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (lower == "debug") return LogLevel::kDebug;
  if (lower == "info") return LogLevel::kInfo;
  if (lower == "warn" || lower == "warning") return LogLevel::kWarn;
  if (lower == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string FormatLogTimestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{ms - day};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf;
}

JsonLogger::JsonLogger(JsonLoggerOptions options)
    : pod_json_(JsonString(options.pod)),
      fd_(options.fd),
      sink_(std::move(options.sink)),
      clock_(options.clock ? std::move(options.clock) : [] { return std::chrono::system_clock::now(); }),
      guard_sigpipe_(!sink_ && !SigpipeIgnored()),
      min_level_(options.min_level) {}

std::string JsonLogger::FormatLine(LogLevel level, std::string_view msg, const nlohmann::json& fields) const {
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  std::string line;
  line.reserve(160 + msg.size());
  line += "{\"ts\":\"";
  line += FormatLogTimestamp(clock_());
  line += "\",\"level\":\"";
  line += LogLevelName(level);
  line += "\",\"msg\":";
  line += JsonString(msg);
  line += ",\"pod\":";
  line += pod_json_;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
      if (IsFixedField(it.key())) continue;
      line += ',';
      line += JsonString(it.key());
      line += ':';
      line += it.value().dump(-1, ' ', false, kReplace);
    }
  } else if (!fields.is_null()) {
    line += ",\"fields\":";
    line += fields.dump(-1, ' ', false, kReplace);
  }
  line += '}';
  return line;
}

bool JsonLogger::WriteAllLocked(std::string_view data) {
  ScopedSigpipeBlock guard(guard_sigpipe_);
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) guard.Consume();
      return false;
    }
    if (n == 0) return false;  // not expected for a non-empty write; do not spin
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void JsonLogger::Log(LogLevel level, std::string_view msg, const nlohmann::json& fields) noexcept {
  if (!Enabled(level)) return;
  try {
    std::string line = FormatLine(level, msg, fields);
    if (sink_) {
      std::lock_guard<std::mutex> lock(mu_);
      sink_(line);
      return;
    }
    line += '\n';
    std::lock_guard<std::mutex> lock(mu_);
    if (!WriteAllLocked(line)) dropped_lines_.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    // A log line is never worth a crash of the request that wrote it.
    dropped_lines_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng = SeededRng();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = rng();
    for (int i = 0; i < 16; ++i) {
      id[half * 16 + i] = kHex[bits & 0xf];
      bits >>= 4;
    }
  }
  return id;
}

bool IsAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace scaletwin
