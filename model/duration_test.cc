#include "model/duration.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), 250 * kNanosPerMilli);
  EXPECT_EQ(*ParseDuration("15s"), 15 * kNanosPerSecond);
  EXPECT_EQ(*ParseDuration("10m"), 600 * kNanosPerSecond);
  EXPECT_EQ(*ParseDuration("2h"), 7200 * kNanosPerSecond);
  EXPECT_EQ(*ParseDuration("500us"), 500 * kNanosPerMicro);
  EXPECT_EQ(*ParseDuration("7ns"), 7);
  EXPECT_EQ(*ParseDuration("1.5s"), 1'500'000'000);
  EXPECT_EQ(*ParseDuration("0s"), 0);
}

TEST(ParseDuration, RejectsMissingOrUnknownUnitsAndNegatives) {
  for (const char* bad : {"", "15", "15 s", "s", "-1s", "1.2.3s", "3d", "1e3s", "ms", "10sec"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_NE(ParseDuration("15").status().message().find("missing unit"), std::string::npos);
  EXPECT_NE(ParseDuration("-1s").status().message().find("negative"), std::string::npos);
}

TEST(ParseDuration, RejectsAbsurdlyLongDurations) {
  EXPECT_TRUE(ParseDuration("720h").ok());
  EXPECT_FALSE(ParseDuration("721h").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999999999h").ok());
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Nanos d : std::initializer_list<Nanos>{0, 1, 250 * kNanosPerMilli, 1'500'000'000, 90 * kNanosPerSecond,
                  120 * kNanosPerSecond, 3600 * kNanosPerSecond, 1234567}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
  EXPECT_EQ(FormatDuration(120 * kNanosPerSecond), "2m");
  EXPECT_EQ(FormatDuration(250 * kNanosPerMilli), "250ms");
}

}  // namespace
}  // namespace scaletwin
