// Every log line is one parseable JSON object with ts, level, msg and pod
// first, whatever the caller's fields hold and however many threads log; a
// failed write is counted, never fatal. Request ids are fresh or safe.
#include "real/telemetry/json_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace scaletwin {
namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

// 2026-12-03T18:04:05.123456Z: the microseconds must be cut, not rounded.
system_clock::time_point FixedTime() {
  return system_clock::time_point(std::chrono::sys_days(std::chrono::year(2026) / 12 / 3).time_since_epoch() + 18h +
                                  4min + 5s + 123456us);
}

// True iff `text` has `shape`'s length and a digit wherever shape has 'd',
// the same character elsewhere. (No std::regex: GCC 12 warns inside it under
// the sanitizer presets, and warnings are errors.)
bool HasShape(std::string_view text, std::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok = shape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

struct Captured {
  std::vector<std::string> lines;
  JsonLoggerOptions Options(std::string pod = "pod-1", LogLevel min_level = LogLevel::kInfo) {
    JsonLoggerOptions o;
    o.pod = std::move(pod);
    o.min_level = min_level;
    o.sink = [this](std::string_view line) { lines.emplace_back(line); };
    o.clock = FixedTime;
    return o;
  }
};

TEST(JsonLogger, EveryLineIsOneJsonObjectWithTheFixedFieldsFirst) {
  Captured out;
  JsonLogger log(out.Options());
  log.Info("listening", {{"port", 8080}});
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0],
            R"({"ts":"2026-12-03T18:04:05.123Z","level":"info","msg":"listening","pod":"pod-1","port":8080})");
  const nlohmann::json j = nlohmann::json::parse(out.lines[0]);
  EXPECT_EQ(j["ts"], "2026-12-03T18:04:05.123Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "listening");
  EXPECT_EQ(j["pod"], "pod-1");
  EXPECT_EQ(j["port"], 8080);
}

TEST(JsonLogger, LinesWithoutFieldsHaveOnlyTheFixedFields) {
  Captured out;
  JsonLogger log(out.Options("p"));
  log.Error("boom");
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], R"({"ts":"2026-12-03T18:04:05.123Z","level":"error","msg":"boom","pod":"p"})");
}

TEST(JsonLogger, LinesBelowTheMinimumLevelAreSkipped) {
  Captured out;
  JsonLogger log(out.Options("p", LogLevel::kWarn));
  EXPECT_FALSE(log.Enabled(LogLevel::kDebug));
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kWarn));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
  log.Debug("d");
  log.Info("i");
  log.Warn("w");
  log.Error("e");
  log.Log(LogLevel::kInfo, "i2");
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(out.lines[0])["level"], "warn");
  EXPECT_EQ(nlohmann::json::parse(out.lines[1])["level"], "error");
}

TEST(JsonLogger, TheMinimumLevelChangesAtRunTime) {
  Captured out;
  JsonLogger log(out.Options("p", LogLevel::kInfo));
  log.Debug("hidden");
  log.set_min_level(LogLevel::kDebug);
  EXPECT_EQ(log.min_level(), LogLevel::kDebug);
  log.Debug("shown");
  log.set_min_level(LogLevel::kError);
  log.Warn("hidden again");
  log.Error("shown too");
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(out.lines[0])["msg"], "shown");
  EXPECT_EQ(nlohmann::json::parse(out.lines[1])["msg"], "shown too");
}

TEST(JsonLogger, CallerFieldsAreMergedAndTheFixedFieldsWin) {
  Captured out;
  JsonLogger log(out.Options("real-pod"));
  log.Warn("slow", {{"b", 1},
                    {"a", "x"},
                    {"nested", {{"k", {1, 2}}}},
                    {"msg", "forged"},
                    {"ts", "1999"},
                    {"level", "debug"},
                    {"pod", "other"}});
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0], R"({"ts":"2026-12-03T18:04:05.123Z","level":"warn","msg":"slow","pod":"real-pod",)"
                          R"("a":"x","b":1,"nested":{"k":[1,2]}})");
  const nlohmann::json j = nlohmann::json::parse(out.lines[0]);
  EXPECT_EQ(j.size(), 7u);
}

TEST(JsonLogger, FieldsThatAreNotAnObjectGoUnderFields) {
  Captured out;
  JsonLogger log(out.Options());
  log.Info("list", nlohmann::json::array({1, "two"}));
  log.Info("scalar", 42);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(out.lines[0])["fields"], nlohmann::json::array({1, "two"}));
  EXPECT_EQ(nlohmann::json::parse(out.lines[1])["fields"], 42);
}

TEST(JsonLogger, NewlinesAndQuotesInValuesStayInsideOneLine) {
  Captured out;
  JsonLogger log(out.Options("pod \"q\"\n"));
  log.Info("line one\nline two \"quoted\"", {{"url", "http://x/\r\n{\"level\":\"error\"}"}});
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0].find('\n'), std::string::npos);
  const nlohmann::json j = nlohmann::json::parse(out.lines[0]);
  EXPECT_EQ(j["msg"], "line one\nline two \"quoted\"");
  EXPECT_EQ(j["pod"], "pod \"q\"\n");
  EXPECT_EQ(j["level"], "info");
}

TEST(JsonLogger, InvalidUtf8IsReplacedNotThrown) {
  Captured out;
  JsonLogger log(out.Options("pod\xff"));
  const std::string bad = "caf\xc3 \xff\xfe end";
  EXPECT_NO_THROW(log.Info(bad, {{"url", bad}, {"k\xff", 1}, {"list", {bad}}}));
  ASSERT_EQ(out.lines.size(), 1u);
  const nlohmann::json j = nlohmann::json::parse(out.lines[0]);  // valid UTF-8 JSON
  const std::string replacement = "\xef\xbf\xbd";                // U+FFFD
  EXPECT_NE(j["msg"].get<std::string>().find(replacement), std::string::npos);
  EXPECT_NE(j["url"].get<std::string>().find(replacement), std::string::npos);
  EXPECT_EQ(j["pod"], "pod" + replacement);
  EXPECT_TRUE(j.contains("k" + replacement));
  EXPECT_EQ(log.dropped_lines(), 0u);
}

TEST(FormatLogTimestamp, IsRfc3339UtcWithMillisecondsTruncated) {
  EXPECT_EQ(FormatLogTimestamp(FixedTime()), "2026-12-03T18:04:05.123Z");
  EXPECT_EQ(FormatLogTimestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(
      FormatLogTimestamp(system_clock::time_point(
          std::chrono::sys_days(std::chrono::year(2024) / 2 / 29).time_since_epoch() + 23h + 59min + 59s + 999ms)),
      "2024-02-29T23:59:59.999Z");
  // Before the epoch the milliseconds count forward within the second.
  EXPECT_EQ(FormatLogTimestamp(system_clock::time_point{} - 1us), "1969-12-31T23:59:59.999Z");
}

TEST(JsonLogger, TheDefaultClockWritesTheCurrentUtcTime) {
  std::vector<std::string> lines;
  JsonLoggerOptions o;
  o.pod = "p";
  o.sink = [&](std::string_view line) { lines.emplace_back(line); };
  JsonLogger log(std::move(o));
  const auto before = std::chrono::floor<std::chrono::milliseconds>(system_clock::now());
  log.Info("now");
  const auto after = system_clock::now();
  ASSERT_EQ(lines.size(), 1u);
  const std::string ts = nlohmann::json::parse(lines[0])["ts"];
  EXPECT_TRUE(HasShape(ts, "dddd-dd-ddTdd:dd:dd.dddZ")) << ts;
  // Lexicographic order of this format is time order.
  EXPECT_LE(FormatLogTimestamp(before), ts);
  EXPECT_GE(FormatLogTimestamp(after), ts);
}

// A pipe whose reader collects everything until the write end closes.
class PipeReader {
 public:
  PipeReader() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    reader_ = std::thread([this] {
      char buf[65536];
      for (;;) {
        const ssize_t n = read(read_fd_, buf, sizeof(buf));
        if (n <= 0) break;
        data_.append(buf, static_cast<size_t>(n));
      }
    });
  }
  ~PipeReader() {
    CloseWriteEnd();
    if (reader_.joinable()) reader_.join();
    close(read_fd_);
  }
  int write_fd() const { return write_fd_; }
  void CloseWriteEnd() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }
  // Everything written, once the write end is closed.
  std::string Drain() {
    CloseWriteEnd();
    reader_.join();
    return data_;
  }

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
  std::string data_;
  std::thread reader_;
};

std::vector<std::string> SplitLines(const std::string& data) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < data.size()) {
    const size_t end = data.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(data.substr(start));  // an unterminated tail: a torn line
      break;
    }
    lines.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

TEST(JsonLogger, LinesFromEightThreadsNeverInterleave) {
  constexpr int kThreads = 8;
  constexpr int kLinesPerThread = 200;
  PipeReader pipe_reader;
  JsonLoggerOptions o;
  o.pod = "p";
  o.fd = pipe_reader.write_fd();
  JsonLogger log(std::move(o));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Lines far above PIPE_BUF: a pipe splits such writes, so only the
      // logger's own serialisation keeps them whole.
      const std::string payload(10000, static_cast<char>('a' + t));
      for (int i = 0; i < kLinesPerThread; ++i) log.Info("work", {{"thread", t}, {"seq", i}, {"payload", payload}});
    });
  }
  for (auto& t : threads) t.join();
  const std::string data = pipe_reader.Drain();
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), '\n');
  const std::vector<std::string> lines = SplitLines(data);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kLinesPerThread));
  std::vector<int> next_seq(kThreads, 0);
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << "torn line: " << line.substr(0, 200);
    const int t = j["thread"];
    ASSERT_GE(t, 0);
    ASSERT_LT(t, kThreads);
    EXPECT_EQ(j["seq"], next_seq[t]++);  // each thread's lines in its own order
    EXPECT_EQ(j["payload"], std::string(10000, static_cast<char>('a' + t)));
    EXPECT_EQ(j["msg"], "work");
  }
  EXPECT_EQ(next_seq, std::vector<int>(kThreads, kLinesPerThread));
  EXPECT_EQ(log.dropped_lines(), 0u);
}

TEST(JsonLogger, AFailedWriteIsCountedNotFatal) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[0]);  // no reader: write(2) fails with EPIPE and raises SIGPIPE
  ASSERT_EQ(signal(SIGPIPE, SIG_DFL), SIG_DFL) << "the test needs SIGPIPE's default action (death)";
  {
    JsonLoggerOptions o;
    o.pod = "p";
    o.fd = fds[1];
    JsonLogger log(std::move(o));
    log.Error("nobody reads this");
    log.Error("nor this");
    EXPECT_EQ(log.dropped_lines(), 2u);
  }
  close(fds[1]);
  sigset_t pending;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "a SIGPIPE was left pending";

  JsonLoggerOptions bad_fd;
  bad_fd.fd = -1;
  JsonLogger log(std::move(bad_fd));
  log.Warn("EBADF");
  EXPECT_EQ(log.dropped_lines(), 1u);
  log.Debug("not enabled: not dropped either");
  EXPECT_EQ(log.dropped_lines(), 1u);
}

TEST(JsonLogger, AThrowingSinkOrClockIsCountedNotPropagated) {
  JsonLoggerOptions throwing_sink;
  throwing_sink.sink = [](std::string_view) { throw std::runtime_error("disk full"); };
  JsonLogger a(std::move(throwing_sink));
  EXPECT_NO_THROW(a.Info("x"));
  EXPECT_EQ(a.dropped_lines(), 1u);

  JsonLoggerOptions throwing_clock;
  throwing_clock.sink = [](std::string_view) {};
  throwing_clock.clock = []() -> system_clock::time_point { throw std::runtime_error("no time"); };
  JsonLogger b(std::move(throwing_clock));
  EXPECT_NO_THROW(b.Info("x"));
  EXPECT_EQ(b.dropped_lines(), 1u);
}

TEST(LogLevel, NamesRoundTripAndParseIsLenientOnlyAboutCase) {
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    EXPECT_EQ(ParseLogLevel(LogLevelName(level)), level) << LogLevelName(level);
  }
  EXPECT_STREQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(ParseLogLevel("WARNING"), LogLevel::kWarn);
  EXPECT_EQ(ParseLogLevel("Info"), LogLevel::kInfo);
  for (const char* bad : {"", "fatal", "info ", " debug", "trace", "warnings"}) {
    EXPECT_EQ(ParseLogLevel(bad), std::nullopt) << bad;
  }
  EXPECT_LT(LogLevel::kDebug, LogLevel::kInfo);
  EXPECT_LT(LogLevel::kInfo, LogLevel::kWarn);
  EXPECT_LT(LogLevel::kWarn, LogLevel::kError);
}

TEST(RequestId, NewIdsAre32LowercaseHexDigitsAndAcceptable) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewRequestId();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << id;
    EXPECT_TRUE(IsAcceptableRequestId(id)) << id;
  }
}

TEST(RequestId, NewIdsAreDistinctAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NewRequestId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(RequestId, OnlyShortIdsOfSafeCharactersAreAcceptable) {
  EXPECT_TRUE(IsAcceptableRequestId("a"));
  EXPECT_TRUE(IsAcceptableRequestId("abc-DEF_123.456:789"));
  EXPECT_TRUE(IsAcceptableRequestId("0d9e4b3c-5f7a-4c1b-9a0e-2f6d8b1c3e5a"));  // a UUID
  EXPECT_TRUE(IsAcceptableRequestId(std::string(128, 'x')));
  EXPECT_FALSE(IsAcceptableRequestId(std::string(129, 'x')));
  EXPECT_FALSE(IsAcceptableRequestId(""));
  for (const char* bad : {"a b", "a\"b", "a\nb", "a\rb", "a\tb", "{\"level\":\"error\"}", "a/b", "a=b", "a,b",
                          "caf\xc3\xa9", "a\\b", "a%20b"}) {
    EXPECT_FALSE(IsAcceptableRequestId(bad)) << bad;
  }
  EXPECT_FALSE(IsAcceptableRequestId(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace scaletwin
