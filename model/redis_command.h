// Redis commands and replies as plain values, shaped like RESP2.
//
// A Command is what a client writes on the wire: a name followed by arguments,
// all binary-safe strings. A Reply is what comes back: nil, integer, bulk
// string, array, error or status ("simple string"). The same Command values are
// sent to a real redis-server by hiredis (real/, property-tests/) and executed
// by the model (RedisStore), and the two Replies are compared with ==, so the
// model's replies must be byte-for-byte what Redis 7.0 sends: error texts,
// nil-vs-empty, integer-vs-bulk, score formatting.
//
//   Command c{"ZADD", "limiter:acme", "1700000000123", "pod1-17"};
//   Reply r = store.Execute(c, now);
//   if (r == Reply::Integer(1)) ...
//
// Also here: the number parsers and the double formatter Redis uses, because
// "is '01' an integer?" and "how is 0.1 printed?" are part of the data model.
//
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace scaletwin {

struct Command {
  Command() = default;
  Command(std::initializer_list<std::string> a) : args(a) {}
  explicit Command(std::vector<std::string> a) : args(std::move(a)) {}

  // args[0] is the command name (any case); the rest are its arguments.
  std::vector<std::string> args;

  // Upper-cased args[0], or "" when empty.
  std::string Name() const;
  // `ZADD key 1 "a b"`: for logs and test failure messages.
  std::string ToString() const;
  bool operator==(const Command&) const = default;
};

class Reply {
 public:
  enum class Kind { kNil, kInteger, kBulk, kArray, kError, kSimple };

  Reply() = default;  // nil
  static Reply Nil() { return Reply(); }
  static Reply Integer(int64_t v);
  static Reply Bulk(std::string s);
  static Reply Array(std::vector<Reply> elements);
  // Error text as sent after '-', e.g. "ERR syntax error", "WRONGTYPE ...".
  static Reply Error(std::string text);
  // Status ("simple string") text as sent after '+', e.g. "OK", "QUEUED".
  static Reply Simple(std::string text);
  static Reply Ok() { return Simple("OK"); }

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  bool is_error() const { return kind_ == Kind::kError; }
  // REQUIRES: kind() == kInteger.
  int64_t integer() const { return integer_; }
  // Bulk, error or status text; "" otherwise.
  const std::string& text() const { return text_; }
  const std::vector<Reply>& elements() const { return elements_; }

  // redis-cli style rendering: (nil), (integer) 3, "bulk", (error) ERR ..., [a, b].
  std::string ToString() const;
  bool operator==(const Reply&) const = default;

 private:
  Kind kind_ = Kind::kNil;
  int64_t integer_ = 0;
  std::string text_;
  std::vector<Reply> elements_;
};

// Error texts shared by many commands, exactly as Redis 7.0 sends them.
inline constexpr std::string_view kErrWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrMinMaxNotFloat = "ERR min or max is not a float";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrOom = "OOM command not allowed when used memory > 'maxmemory'.";
inline constexpr std::string_view kErrNoScript = "NOSCRIPT No matching script. Please use EVAL.";
inline constexpr std::string_view kErrExecAbort = "EXECABORT Transaction discarded because of previous errors.";

// Redis's string2ll: true iff `s` is a canonical base-10 int64 ("-5", "0"), with
// no sign '+', no spaces, no leading zeros ("01", "-0" fail), no overflow.
bool ParseRedisInt(std::string_view s, int64_t* out);
// Redis's getDoubleFromObject: strtod over the whole string, no leading space,
// not empty, not NaN, no overflow to +-HUGE_VAL or underflow to 0 ("inf",
// "-inf", "1e3", "0x10" are accepted).
bool ParseRedisDouble(std::string_view s, double* out);
// How Redis 7.0 replies with a double (ZSCORE, ZADD INCR, WITHSCORES):
// "inf"/"-inf", else printf("%.17g") — so 1.5 -> "1.5", 0.1 -> "0.10000000000000001".
std::string FormatRedisDouble(double d);

// Lower-case ASCII copy, for case-insensitive option matching.
std::string AsciiLower(std::string_view s);

}  // namespace scaletwin
