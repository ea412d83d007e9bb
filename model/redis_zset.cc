// Sorted set ordering, ranges and ZADD flag semantics (t_zset.c, Redis 7.0).
#include "model/redis_zset.h"

#include <cmath>
#include <cstdlib>
#include <iterator>

#include "model/redis_memory.h"

namespace scaletwin {

namespace {

bool ParseBound(std::string_view text, double* value, bool* exclusive) {
  *exclusive = !text.empty() && text[0] == '(';
  const std::string s(text.substr(*exclusive ? 1 : 0));
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || std::isnan(v)) return false;
  *value = v;
  return true;
}

}  // namespace

std::optional<ScoreRange> ParseScoreRange(std::string_view min, std::string_view max) {
  ScoreRange r;
  if (!ParseBound(min, &r.min, &r.min_exclusive) || !ParseBound(max, &r.max, &r.max_exclusive)) return std::nullopt;
  return r;
}

std::optional<double> RedisZSet::Score(std::string_view member) const {
  auto it = scores_.find(std::string(member));
  if (it == scores_.end()) return std::nullopt;
  return it->second;
}

void RedisZSet::Insert(double score, const std::string& member) {
  if (!skiplist_ && (scores_.size() + 1 > kZsetMaxListpackEntries || member.size() > kZsetMaxListpackValue)) {
    skiplist_ = true;  // one-way in 7.0
  }
  ordered_.emplace(score, member);
  scores_[member] = score;
  listpack_pair_bytes_ += ListpackPairBytes(member, score);
  skiplist_member_bytes_ += SkiplistMemberBytes(member.size());
}

void RedisZSet::Erase(double score, const std::string& member) {
  ordered_.erase({score, member});
  scores_.erase(member);
  listpack_pair_bytes_ -= ListpackPairBytes(member, score);
  skiplist_member_bytes_ -= SkiplistMemberBytes(member.size());
}

ZAddOutcome RedisZSet::Add(double score, const std::string& member, const ZAddFlags& flags) {
  ZAddOutcome out;
  auto it = scores_.find(member);
  if (it != scores_.end()) {
    const double current = it->second;
    if (flags.nx) {
      out.nop = true;
      return out;
    }
    if (flags.incr) {
      score += current;
      if (std::isnan(score)) {
        out.nan = true;
        return out;
      }
    }
    if ((flags.lt && score >= current) || (flags.gt && score <= current)) {
      out.nop = true;
      return out;
    }
    out.new_score = score;
    if (score != current) {
      const std::string m = member;  // `member` may alias the key we erase
      Erase(current, m);
      Insert(score + 0.0, m);
      out.updated = true;
    }
    return out;
  }
  if (flags.xx) {
    out.nop = true;
    return out;
  }
  Insert(score + 0.0, member);  // + 0.0 turns -0 into 0, as the listpack does
  out.added = true;
  out.new_score = score;
  return out;
}

bool RedisZSet::Remove(const std::string& member) {
  auto it = scores_.find(member);
  if (it == scores_.end()) return false;
  Erase(it->second, member);
  return true;
}

int64_t RedisZSet::RemoveRangeByScore(const ScoreRange& range) {
  if (range.Empty()) return 0;
  std::vector<std::pair<double, std::string>> doomed;
  for (auto it = ordered_.lower_bound({range.min, std::string()}); it != ordered_.end(); ++it) {
    if (!range.GteMin(it->first)) continue;
    if (!range.LteMax(it->first)) break;
    doomed.push_back(*it);
  }
  for (const auto& [score, member] : doomed) Erase(score, member);
  return static_cast<int64_t>(doomed.size());
}

int64_t RedisZSet::Count(const ScoreRange& range) const {
  if (range.Empty()) return 0;
  int64_t n = 0;
  for (auto it = ordered_.lower_bound({range.min, std::string()}); it != ordered_.end(); ++it) {
    if (!range.GteMin(it->first)) continue;
    if (!range.LteMax(it->first)) break;
    ++n;
  }
  return n;
}

std::vector<RedisZSet::Member> RedisZSet::RangeByRank(int64_t start, int64_t stop, bool rev) const {
  const int64_t len = static_cast<int64_t>(ordered_.size());
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  std::vector<Member> out;
  if (start > stop || start >= len) return out;
  if (stop >= len) stop = len - 1;
  const int64_t n = stop - start + 1;
  out.reserve(static_cast<size_t>(n));
  // A tree has no rank index: walk to the first element from whichever end
  // is nearer (the limiters ask for rank -L of a set holding about L).
  auto at_rank = [this, len](int64_t rank) {
    return rank <= len / 2 ? std::next(ordered_.begin(), rank) : std::prev(ordered_.end(), len - rank);
  };
  if (!rev) {
    auto it = at_rank(start);
    for (int64_t i = 0; i < n; ++i, ++it) out.emplace_back(it->second, it->first);
  } else {
    // Reverse rank r is forward rank len-1-r; walk backwards from there.
    auto it = at_rank(len - 1 - start);
    for (int64_t i = 0; i < n; ++i) {
      out.emplace_back(it->second, it->first);
      if (i + 1 < n) --it;
    }
  }
  return out;
}

std::vector<RedisZSet::Member> RedisZSet::RangeByScore(const ScoreRange& range, bool rev, int64_t offset,
                                                      int64_t count) const {
  std::vector<Member> out;
  if (range.Empty() || offset < 0) return out;
  auto emit = [&](const std::pair<double, std::string>& e) {
    if (offset > 0) {
      --offset;
      return true;
    }
    if (count == 0) return false;
    out.emplace_back(e.second, e.first);
    if (count > 0) --count;
    return true;
  };
  if (!rev) {
    for (auto it = ordered_.begin(); it != ordered_.end(); ++it) {
      if (!range.GteMin(it->first)) continue;
      if (!range.LteMax(it->first)) break;
      if (!emit(*it)) break;
    }
  } else {
    for (auto it = ordered_.rbegin(); it != ordered_.rend(); ++it) {
      if (!range.LteMax(it->first)) continue;
      if (!range.GteMin(it->first)) break;
      if (!emit(*it)) break;
    }
  }
  return out;
}

int64_t RedisZSet::MemoryBytes() const {
  if (!skiplist_) return ListpackAllocBytes(listpack_pair_bytes_);
  return kSkiplistZsetBaseBytes + skiplist_member_bytes_;
}

}  // namespace scaletwin
