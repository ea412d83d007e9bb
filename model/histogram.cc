#include "model/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

#include <nlohmann/json.hpp>

namespace scaletwin {

namespace {
constexpr int kSub = 1 << LogLinearHistogram::kSubBucketBits;  // 1024
}

LogLinearHistogram::LogLinearHistogram() : counts_(kBucketCount, 0) {}

int LogLinearHistogram::BucketIndex(int64_t value) {
  assert(value >= 0);
  if (value > kMaxTrackable) value = kMaxTrackable;
  const auto v = static_cast<uint64_t>(value);
  const int msb = 63 - std::countl_zero(v | 1);
  if (msb <= kSubBucketBits) return static_cast<int>(v);  // exact below 2048
  const int shift = msb - kSubBucketBits;
  return shift * kSub + static_cast<int>(v >> shift);
}

int64_t LogLinearHistogram::BucketLower(int index) {
  if (index < 2 * kSub) return index;
  const int shift = index / kSub - 1;
  const int64_t sub = index - shift * kSub;
  return sub << shift;
}

int64_t LogLinearHistogram::BucketWidth(int index) {
  if (index < 2 * kSub) return 1;
  return int64_t{1} << (index / kSub - 1);
}

void LogLinearHistogram::RecordN(int64_t value, uint64_t n) {
  if (n == 0) return;
  const int i = BucketIndex(value);
  counts_[i] += n;
  lo_index_ = std::min(lo_index_, i);
  hi_index_ = std::max(hi_index_, i);
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += n;
  sum_ += static_cast<double>(value) * static_cast<double>(n);
}

void LogLinearHistogram::Merge(const LogLinearHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = other.lo_index_; i <= other.hi_index_; ++i) counts_[i] += other.counts_[i];
  lo_index_ = std::min(lo_index_, other.lo_index_);
  hi_index_ = std::max(hi_index_, other.hi_index_);
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
}

void LogLinearHistogram::Reset() {
  if (hi_index_ >= lo_index_) std::fill(counts_.begin() + lo_index_, counts_.begin() + hi_index_ + 1, 0);
  lo_index_ = kBucketCount;
  hi_index_ = -1;
  count_ = 0;
  sum_ = 0;
  min_ = max_ = 0;
}

int64_t LogLinearHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == count_) return max_;  // the maximum is kept exactly
  uint64_t seen = 0;
  for (int i = lo_index_; i <= hi_index_; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int64_t mid = BucketLower(i) + BucketWidth(i) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

double LogLinearHistogram::FractionAbove(int64_t value) const {
  if (count_ == 0) return 0.0;
  const int limit = BucketIndex(std::max<int64_t>(value, 0));
  uint64_t above = 0;
  for (int i = std::max(limit + 1, lo_index_); i <= hi_index_; ++i) above += counts_[i];
  return static_cast<double>(above) / static_cast<double>(count_);
}

nlohmann::json LogLinearHistogram::ToJson() const {
  nlohmann::json buckets = nlohmann::json::array();
  for (int i = lo_index_; i <= hi_index_; ++i) {
    if (counts_[i]) buckets.push_back({BucketLower(i), counts_[i]});
  }
  return {{"count", count_}, {"min", min()}, {"max", max()}, {"sum", sum_},
          {"sub_buckets_per_octave", kSub}, {"buckets", std::move(buckets)}};
}

}  // namespace scaletwin
