// Kubernetes quantity strings ("100", "500m", "1k", "1Ki", "1.5", "2e3") as
// they are written in a manifest, converted the way the API machinery does.
//
// The HPA reads every target in milli-units (resource.Quantity.MilliValue(),
// which rounds *up* to the next whole milli-unit) and per-HPA tolerances as a
// float (AsApproximateFloat64()). This unit gives both from one parse, and
// keeps the original text for messages and reports.
//
//   Result<Quantity> q = ParseQuantity("500m");
//   q->milli == 500;  q->value == 0.5;
//   ParseQuantity("1Ki")->milli == 1'024'000;
//
// Accepted grammar (k8s.io/apimachinery/pkg/api/resource): an optional sign,
// digits with at most one '.', then at most one suffix: a decimal SI suffix
// (n u m k M G T P E), a binary suffix (Ki Mi Gi Ti Pi Ei) or a decimal
// exponent (e3, E-2). Quantities whose milli value does not fit int64 fail.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin {

struct Quantity {
  std::string text;   // as written, e.g. "500m"
  int64_t milli = 0;  // ceil(value × 1000), like MilliValue()
  double value = 0;   // like AsApproximateFloat64()
};

// Parses one quantity string. Fails with a message naming what was wrong.
Result<Quantity> ParseQuantity(std::string_view text);

// The canonical short text for a milli value: 1500 -> "1500m", 2000 -> "2".
std::string FormatMilli(int64_t milli);

}  // namespace scaletwin
