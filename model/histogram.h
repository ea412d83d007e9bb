// LogLinearHistogram: mergeable latency histogram with bounded relative error.
//
// Values are non-negative integers (nanoseconds in scaletwin). Values below
// 2048 are kept exactly; above, each power-of-two range [2^k, 2^(k+1)) is cut
// into 1024 equal sub-buckets, so a recorded value is known to within 1/1024
// (< 0.1 %) of itself and a reported percentile (the bucket midpoint, clamped
// to the observed min/max) is within 0.05 %. This is HdrHistogram's layout at
// three significant digits, written small because Debian ships no C++ one.
//
//   LogLinearHistogram h;
//   h.Record(latency_ns);
//   int64_t p99 = h.Percentile(0.99);
//   total.Merge(h);                       // histograms add bucket by bucket
//
// Values above kMaxTrackable (about 73 minutes in ns) are counted in the top
// bucket; min, max, count and sum stay exact. Thread-safety: none.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace scaletwin {

class LogLinearHistogram {
 public:
  static constexpr int kSubBucketBits = 10;                  // 1024 sub-buckets per octave
  static constexpr int kMaxExponent = 42;                    // top octave is [2^42, 2^43)
  static constexpr int64_t kMaxTrackable = (int64_t{1} << (kMaxExponent + 1)) - 1;
  static constexpr int kBucketCount = (kMaxExponent - kSubBucketBits + 1) * (1 << kSubBucketBits) +
                                      (1 << kSubBucketBits);

  LogLinearHistogram();

  // REQUIRES: value >= 0.
  void Record(int64_t value) { RecordN(value, 1); }
  void RecordN(int64_t value, uint64_t n);
  void Merge(const LogLinearHistogram& other);
  // Forgets every value; cost proportional to the span of buckets touched.
  void Reset();

  uint64_t count() const { return count_; }
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  double Mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // The value at rank ceil(q * count) (q in [0, 1]) to bucket resolution; the
  // top rank returns the exact maximum; 0 when empty.
  int64_t Percentile(double q) const;
  // Fraction of recorded values strictly greater than `value`, to bucket resolution.
  double FractionAbove(int64_t value) const;

  static int BucketIndex(int64_t value);
  static int64_t BucketLower(int index);
  static int64_t BucketWidth(int index);

  // {"count", "min", "max", "sum", "buckets": [[lower, count], ...]} with only
  // non-empty buckets, in ascending order.
  nlohmann::json ToJson() const;

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t min_ = 0, max_ = 0;
  int lo_index_ = kBucketCount, hi_index_ = -1;  // span of touched buckets
};

}  // namespace scaletwin
