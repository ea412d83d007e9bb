// A Redis sorted set (t_zset.c semantics, Redis 7.0): unique members with
// double scores, ordered by score and then by member bytes (memcmp order).
//
// Contract points that limiters depend on:
// - Adding an existing member moves it; ZADD counts only new members.
// - Score ranges are inclusive unless the bound starts with '(' ; "-inf"/"+inf"
//   are valid; an empty or inverted range selects nothing.
// - -0 is stored as 0 (listpack stores integral scores as integers).
// - The set tracks the memory its encoding takes (listpack until > 128 members
//   or a member > 64 bytes, then skiplist for good), so the store can account
//   maxmemory without walking members.
//
//   RedisZSet z;
//   z.Add(1700000000123, "pod1-1", {});
//   ScoreRange r = *ParseScoreRange("-inf", "(1700000000000");
//   z.RemoveRangeByScore(r);
//
// Thread-safety: none; a value owned by one store.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace scaletwin {

// A ZRANGEBYSCORE-style interval.
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;

  bool Empty() const { return min > max || (min == max && (min_exclusive || max_exclusive)); }
  bool GteMin(double v) const { return min_exclusive ? v > min : v >= min; }
  bool LteMax(double v) const { return max_exclusive ? v < max : v <= max; }
  bool Contains(double v) const { return GteMin(v) && LteMax(v); }
};

// t_zset.c zslParseRange: "(" prefix = exclusive; strtod over the rest; only
// NaN and trailing garbage fail (note: "" and "(" parse as 0, as in Redis).
// nullopt means "ERR min or max is not a float".
std::optional<ScoreRange> ParseScoreRange(std::string_view min, std::string_view max);

struct ZAddFlags {
  bool nx = false;  // only add new members
  bool xx = false;  // only update existing members
  bool gt = false;  // update only if the new score is greater
  bool lt = false;  // update only if the new score is less
  bool incr = false;
};

// zsetAdd's outcome for one member.
struct ZAddOutcome {
  bool added = false;
  bool updated = false;  // score changed
  bool nop = false;      // flags prevented any change
  bool nan = false;      // INCR produced NaN: nothing changed, command errors
  double new_score = 0;
};

class RedisZSet {
 public:
  using Member = std::pair<std::string, double>;

  size_t size() const { return scores_.size(); }
  bool empty() const { return scores_.empty(); }
  std::optional<double> Score(std::string_view member) const;

  // REQUIRES: score is not NaN. With flags.incr, `score` is the increment.
  ZAddOutcome Add(double score, const std::string& member, const ZAddFlags& flags);
  // True iff the member was present.
  bool Remove(const std::string& member);
  // Number of members removed.
  int64_t RemoveRangeByScore(const ScoreRange& range);
  int64_t Count(const ScoreRange& range) const;
  // ZRANGE start stop [REV] with Redis's index normalisation (negative from the end).
  std::vector<Member> RangeByRank(int64_t start, int64_t stop, bool rev) const;
  // ZRANGE min max BYSCORE [REV] [LIMIT offset count]; count < 0 = no limit,
  // offset < 0 = nothing (as Redis's offset-- loop does).
  std::vector<Member> RangeByScore(const ScoreRange& range, bool rev, int64_t offset, int64_t count) const;

  // Bytes the value takes in Redis (listpack or skiplist encoding).
  int64_t MemoryBytes() const;
  bool is_skiplist() const { return skiplist_; }

 private:
  struct Less {
    bool operator()(const std::pair<double, std::string>& a, const std::pair<double, std::string>& b) const {
      if (a.first != b.first) return a.first < b.first;
      return a.second < b.second;  // char_traits<char>::compare: memcmp order
    }
  };
  void Insert(double score, const std::string& member);
  void Erase(double score, const std::string& member);

  std::set<std::pair<double, std::string>, Less> ordered_;
  std::unordered_map<std::string, double> scores_;
  bool skiplist_ = false;
  int64_t listpack_pair_bytes_ = 0;
  int64_t skiplist_member_bytes_ = 0;
};

}  // namespace scaletwin
