// Redis's number rules: what counts as an integer or a float, how doubles print.
#include "model/redis_command.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace scaletwin {
namespace {

TEST(RedisCommand, IntegersMustBeCanonical) {
  int64_t v = 0;
  EXPECT_TRUE(ParseRedisInt("0", &v) && v == 0);
  EXPECT_TRUE(ParseRedisInt("-42", &v) && v == -42);
  EXPECT_TRUE(ParseRedisInt("9223372036854775807", &v) && v == std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(ParseRedisInt("-9223372036854775808", &v) && v == std::numeric_limits<int64_t>::min());
  for (const char* bad : {"", "01", "-0", "+1", " 1", "1 ", "1.0", "9223372036854775808", "-", "abc"}) {
    EXPECT_FALSE(ParseRedisInt(bad, &v)) << bad;
  }
}

TEST(RedisCommand, FloatsFollowStrtodWithRedisRejections) {
  double d = 0;
  EXPECT_TRUE(ParseRedisDouble("1.5", &d) && d == 1.5);
  EXPECT_TRUE(ParseRedisDouble("-inf", &d) && std::isinf(d) && d < 0);
  EXPECT_TRUE(ParseRedisDouble("+inf", &d) && std::isinf(d) && d > 0);
  EXPECT_TRUE(ParseRedisDouble("0x10", &d) && d == 16);
  for (const char* bad : {"", " 1", "nan", "abc", "1e400", "1e-400", "1x"}) {
    EXPECT_FALSE(ParseRedisDouble(bad, &d)) << bad;
  }
}

TEST(RedisCommand, DoublesPrintLikeRedisSeven) {
  EXPECT_EQ(FormatRedisDouble(1), "1");
  EXPECT_EQ(FormatRedisDouble(1.5), "1.5");
  EXPECT_EQ(FormatRedisDouble(0.1), "0.10000000000000001");
  EXPECT_EQ(FormatRedisDouble(1e17), "1e+17");
  EXPECT_EQ(FormatRedisDouble(1700000000123.0), "1700000000123");
  EXPECT_EQ(FormatRedisDouble(INFINITY), "inf");
  EXPECT_EQ(FormatRedisDouble(-INFINITY), "-inf");
}

TEST(RedisCommand, RepliesCompareByKindAndContent) {
  EXPECT_EQ(Reply::Integer(1), Reply::Integer(1));
  EXPECT_NE(Reply::Integer(1), Reply::Bulk("1"));
  EXPECT_NE(Reply::Nil(), Reply::Array({}));
  EXPECT_EQ(Reply::Array({Reply::Ok(), Reply::Nil()}).ToString(), "[OK, (nil)]");
  EXPECT_EQ((Command{"zadd", "k", "1", "a b"}).ToString(), "zadd k 1 \"a b\"");
  EXPECT_EQ((Command{"zadd", "k"}).Name(), "ZADD");
}

}  // namespace
}  // namespace scaletwin
