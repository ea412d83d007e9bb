// Sorted-set ordering, ranges, ZADD flags and encoding memory.
#include "model/redis_zset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "model/redis_memory.h"

namespace scaletwin {
namespace {

std::vector<std::string> Members(const std::vector<RedisZSet::Member>& v) {
  std::vector<std::string> out;
  for (const auto& m : v) out.push_back(m.first);
  return out;
}

TEST(RedisZSet, EqualScoresAreOrderedByMemberBytes) {
  RedisZSet z;
  z.Add(1, "b", {});
  z.Add(1, "a", {});
  z.Add(1, "\xff", {});  // bytes compare unsigned: 0xff sorts last
  z.Add(0, "z", {});
  EXPECT_EQ(Members(z.RangeByRank(0, -1, false)), (std::vector<std::string>{"z", "a", "b", "\xff"}));
  EXPECT_EQ(Members(z.RangeByRank(0, 1, true)), (std::vector<std::string>{"\xff", "b"}));
}

TEST(RedisZSet, ReaddingAMemberMovesItAndCountsAsUpdate) {
  RedisZSet z;
  EXPECT_TRUE(z.Add(1, "a", {}).added);
  const ZAddOutcome again = z.Add(5, "a", {});
  EXPECT_FALSE(again.added);
  EXPECT_TRUE(again.updated);
  EXPECT_EQ(z.size(), 1u);
  EXPECT_EQ(*z.Score("a"), 5);
}

TEST(RedisZSet, ExclusiveBoundsAndInfinities) {
  RedisZSet z;
  for (int i = 1; i <= 5; ++i) z.Add(i, "m" + std::to_string(i), {});
  EXPECT_EQ(z.Count(*ParseScoreRange("(1", "5")), 4);
  EXPECT_EQ(z.Count(*ParseScoreRange("(1", "(5")), 3);
  EXPECT_EQ(z.Count(*ParseScoreRange("-inf", "+inf")), 5);
  EXPECT_EQ(z.Count(*ParseScoreRange("3", "(3")), 0);
  EXPECT_EQ(z.Count(*ParseScoreRange("4", "2")), 0);
  EXPECT_FALSE(ParseScoreRange("abc", "1").has_value());
  EXPECT_FALSE(ParseScoreRange("nan", "1").has_value());
  EXPECT_EQ(z.RemoveRangeByScore(*ParseScoreRange("-inf", "(3")), 2);  // the limiter's trim
  EXPECT_EQ(Members(z.RangeByRank(0, -1, false)), (std::vector<std::string>{"m3", "m4", "m5"}));
}

TEST(RedisZSet, ScoreRangeHonoursRevOffsetAndCount) {
  RedisZSet z;
  for (int i = 1; i <= 5; ++i) z.Add(i, "m" + std::to_string(i), {});
  const ScoreRange all = *ParseScoreRange("-inf", "+inf");
  EXPECT_EQ(Members(z.RangeByScore(all, true, 1, 2)), (std::vector<std::string>{"m4", "m3"}));
  EXPECT_EQ(Members(z.RangeByScore(all, false, 3, -1)), (std::vector<std::string>{"m4", "m5"}));
  EXPECT_TRUE(z.RangeByScore(all, false, -1, 2).empty());
}

TEST(RedisZSet, GtLtNxXxGateUpdatesButGtLtStillAdd) {
  RedisZSet z;
  z.Add(5, "a", {});
  EXPECT_TRUE(z.Add(4, "a", {.gt = true}).nop);
  EXPECT_TRUE(z.Add(6, "a", {.gt = true}).updated);
  EXPECT_TRUE(z.Add(7, "a", {.lt = true}).nop);
  EXPECT_TRUE(z.Add(1, "b", {.lt = true}).added);
  EXPECT_TRUE(z.Add(1, "c", {.xx = true}).nop);
  EXPECT_TRUE(z.Add(1, "a", {.nx = true}).nop);
  const ZAddOutcome inc = z.Add(2.5, "a", {.incr = true});
  EXPECT_EQ(inc.new_score, 8.5);
  z.Add(INFINITY, "i", {});
  EXPECT_TRUE(z.Add(-INFINITY, "i", {.incr = true}).nan);
}

TEST(RedisZSet, ListpackMemoryMatchesMeasuredMemoryUsage) {
  // MEMORY USAGE on 7.0.15 = listpack allocation + 48 B (robj, dictEntry, short key).
  auto usage = [](int n, auto member) {
    RedisZSet z;
    for (int i = 0; i < n; ++i) z.Add(1700000000000.0 + i, member(i), {});
    return z.MemoryBytes() + 48;
  };
  auto int16 = [](int i) { return std::to_string(1000000000000000LL + i); };
  auto twenty = [](int i) {
    std::string s = "1700000000000-" + std::to_string(100000 + i);
    return s.substr(0, 20);
  };
  EXPECT_EQ(usage(1, int16), 80);
  EXPECT_EQ(usage(10, int16), 272);
  EXPECT_EQ(usage(128, int16), 3120);
  EXPECT_EQ(usage(1, twenty), 96);
  EXPECT_EQ(usage(10, twenty), 432);
  EXPECT_EQ(usage(128, twenty), 5168);
}

TEST(RedisZSet, ConvertsToSkiplistPast128MembersAndStays) {
  RedisZSet z;
  for (int i = 0; i < 129; ++i) z.Add(i, "member-" + std::to_string(100000 + i), {});
  EXPECT_TRUE(z.is_skiplist());
  const double per_member = static_cast<double>(z.MemoryBytes()) / 129;
  EXPECT_GT(per_member, 110);  // measured 118-139 B/member for 20-byte members
  EXPECT_LT(per_member, 145);
  z.Remove("member-100000");
  EXPECT_TRUE(z.is_skiplist());
}

}  // namespace
}  // namespace scaletwin
