#include "model/quantity.h"

#include <gtest/gtest.h>

namespace scaletwin {
namespace {

int64_t Milli(const char* text) {
  Result<Quantity> q = ParseQuantity(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status().ToString();
  return q.ok() ? q->milli : -1;
}

TEST(QuantityTest, ManifestFormsBecomeMilliUnits) {
  EXPECT_EQ(Milli("100"), 100'000);
  EXPECT_EQ(Milli("500m"), 500);
  EXPECT_EQ(Milli("1k"), 1'000'000);
  EXPECT_EQ(Milli("1Ki"), 1'024'000);
  EXPECT_EQ(Milli("1.5"), 1'500);
  EXPECT_EQ(Milli("2e3"), 2'000'000);
  EXPECT_EQ(Milli("2E-3"), 2);
  EXPECT_EQ(Milli("1M"), 1'000'000'000);
  EXPECT_EQ(Milli("+0.25"), 250);
  EXPECT_EQ(Milli("0"), 0);
}

TEST(QuantityTest, MilliValueRoundsUpLikeTheApimachinery) {
  EXPECT_EQ(Milli("1u"), 1);      // 0.001 m rounds up to 1 m
  EXPECT_EQ(Milli("1500u"), 2);   // 1.5 m -> 2 m
  EXPECT_EQ(Milli("0.0001"), 1);
  EXPECT_EQ(Milli("-1500u"), -1);  // toward +infinity
}

TEST(QuantityTest, FloatValueIsApproximate) {
  EXPECT_DOUBLE_EQ(ParseQuantity("50m")->value, 0.05);
  EXPECT_DOUBLE_EQ(ParseQuantity("2Ki")->value, 2048);
}

TEST(QuantityTest, MalformedQuantitiesAreErrors) {
  for (const char* bad : {"", "m", "1x", "1.2.3", "1KiB", "1e", "e3", "--1", "1 k", "1e1234"}) {
    EXPECT_FALSE(ParseQuantity(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseQuantity("100E").ok()) << "exceeds int64 milli";
}

TEST(QuantityTest, FormatMilliUsesWholeUnitsWhenExact) {
  EXPECT_EQ(FormatMilli(2000), "2");
  EXPECT_EQ(FormatMilli(1500), "1500m");
}

}  // namespace
}  // namespace scaletwin
