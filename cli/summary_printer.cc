#include "cli/summary_printer.h"

#include <cstdio>
#include <string>

namespace scaletwin::cli {

namespace {

std::string Fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

double Num(const nlohmann::json& j, const char* a, const char* b = nullptr) {
  const nlohmann::json* n = &j;
  if (!n->contains(a)) return 0;
  n = &(*n)[a];
  if (b) {
    if (!n->contains(b)) return 0;
    n = &(*n)[b];
  }
  return n->is_number() ? n->get<double>() : 0;
}

}  // namespace

void PrintSummary(std::ostream& out, const nlohmann::json& report, double wall_seconds) {
  const nlohmann::json& s = report["summary"];
  const nlohmann::json& sc = report["scenario"];
  out << "scenario " << sc["name"].get<std::string>() << " (seed " << sc["seed"] << ", "
      << Fmt("%g", sc["duration_s"].get<double>())
      << (report.value("mode", "sim") == "real" ? " s on the real service, warmup " : " s simulated, warmup ") << Fmt("%g", sc["warmup_s"].get<double>())
      << " s) in " << Fmt("%.2f", wall_seconds) << " s wall\n";
  out << "  requests   offered " << s["requests"]["offered"] << ", completed " << s["requests"]["completed"]
      << ", rejected " << s["requests"]["rejected"];
  std::string causes;
  for (const auto& [cause, n] : s["rejected_by_cause"].items()) {
    if (n.get<uint64_t>() > 0) causes += (causes.empty() ? "" : ", ") + cause + " " + n.dump();
  }
  if (!causes.empty()) out << " (" << causes << ")";
  out << ", in flight at end " << s["requests"]["in_flight_at_end"] << "\n";
  out << "  throughput " << Fmt("%.1f", Num(s, "throughput_rps")) << " req/s of "
      << Fmt("%.1f", Num(s, "offered_rps")) << " offered; utilization " << Fmt("%.1f%%", 100 * Num(s, "utilization"))
      << "\n";
  out << "  latency    mean " << Fmt("%.3f", Num(s, "latency_ms", "mean")) << " ms, p50 "
      << Fmt("%.3f", Num(s, "latency_ms", "p50")) << ", p90 " << Fmt("%.3f", Num(s, "latency_ms", "p90")) << ", p99 "
      << Fmt("%.3f", Num(s, "latency_ms", "p99")) << ", max " << Fmt("%.3f", Num(s, "latency_ms", "max")) << "\n";
  out << "  queue wait mean " << Fmt("%.3f", Num(s, "queue_wait_ms", "mean")) << " ms, p99 "
      << Fmt("%.3f", Num(s, "queue_wait_ms", "p99")) << " ms, P(wait) " << Fmt("%.4f", Num(s, "queue_wait_ms", "p_wait"))
      << "\n";
  const nlohmann::json& ex = report["expectations"];
  if (ex.empty()) {
    out << "expectations: none\n";
    return;
  }
  size_t passed = 0;
  for (const auto& e : ex) passed += e["passed"].get<bool>();
  out << "expectations: " << passed << "/" << ex.size() << " passed\n";
  for (const auto& e : ex) {
    std::string bound;
    if (e.contains("min")) bound += ">= " + Fmt("%g", e["min"].get<double>());
    if (e.contains("max")) bound += (bound.empty() ? "" : " and ") + std::string("<= ") + Fmt("%g", e["max"].get<double>());
    const std::string actual = e.contains("actual") ? Fmt("%g", e["actual"].get<double>()) : "missing";
    out << "  " << (e["passed"].get<bool>() ? "PASS" : "FAIL") << "  " << e["metric"].get<std::string>() << " = "
        << actual << " (want " << bound << ")\n";
  }
}

}  // namespace scaletwin::cli
