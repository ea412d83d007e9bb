#include "reports/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <set>
#include <vector>

#include "model/run_result.h"
#include "reports/html_escape.h"
#include "reports/svg_chart.h"

namespace scaletwin::reports {

namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Generic tables beyond this many rows point the reader to report.json instead.
constexpr size_t kMaxGenericRows = 500;

// ---------------------------------------------------------------------------
// What the page shows. Adding a chart or a summary row is one entry below; a
// series or value missing from a report is skipped, so entries may name
// series that only some reports carry (e.g. replicas_desired, added with HPA).

// Where a per-interval value is drawn on the time axis.
enum class Anchor {
  kMid,  // aggregates over the interval (counts, time-averages, percentiles)
  kEnd,  // levels sampled at the end of the interval
};

enum class Transform {
  kNone,
  kPerSecond,           // count per interval → rate, so different intervals compare
  kGapIfNoCompletions,  // latency percentiles: 0 in an interval with no completions means "no data"
  kFlat,                // `path` is one number (a target): drawn as a level line over the whole run
};

struct SeriesDef {
  const char* label;
  const char* path;   // dotted path from the report root
  const char* color;  // fixed so a series keeps its colour across charts and runs
  Anchor anchor = Anchor::kMid;
  Transform transform = Transform::kNone;
};

struct ChartDef {
  const char* id;
  const char* title;
  const char* y_label;
  std::vector<SeriesDef> series;
  // Optional: an object of arrays (e.g. series.rejected_by_cause); each
  // member with a non-zero value becomes a series, labelled by its key.
  const char* expand = nullptr;
  Transform expand_transform = Transform::kNone;
  bool integer = false;  // whole-number y ticks
};

const std::vector<ChartDef>& Charts() {
  static const std::vector<ChartDef> kCharts = {
      {"traffic",
       "Requests: offered, completed, rejected",
       "requests / s",
       {{"offered", "series.offered", "#4e79a7", Anchor::kMid, Transform::kPerSecond},
        {"completed", "series.completed", "#59a14f", Anchor::kMid, Transform::kPerSecond},
        {"rejected", "series.rejected", "#e15759", Anchor::kMid, Transform::kPerSecond}}},
      {"rejections", "Rejections by cause", "requests / s", {}, "series.rejected_by_cause", Transform::kPerSecond},
      {"latency",
       "Latency percentiles (arrival to completion)",
       "latency (ms)",
       {{"p50", "series.latency_ms.p50", "#4e79a7", Anchor::kMid, Transform::kGapIfNoCompletions},
        {"p95", "series.latency_ms.p95", "#f28e2b", Anchor::kMid, Transform::kGapIfNoCompletions},
        {"p99", "series.latency_ms.p99", "#e15759", Anchor::kMid, Transform::kGapIfNoCompletions}}},
      {"queue",
       "Queue length (all pods)",
       "requests waiting",
       {{"mean", "series.queue_length_mean", "#4e79a7"}, {"max", "series.queue_length_max", "#e15759"}}},
      {"work",
       "Busy workers and requests in flight",
       "requests",
       {{"busy workers (mean)", "series.busy_workers_mean", "#59a14f"},
        {"in flight (end of interval)", "series.in_flight", "#b07aa1", Anchor::kEnd}}},
      {"replicas",
       "Replicas",
       "pods",
       {{"ready", "series.replicas_ready", "#4e79a7", Anchor::kEnd},
        {"desired", "series.replicas_desired", "#f28e2b", Anchor::kEnd},
        {"total", "series.replicas_total", "#9c755f", Anchor::kEnd}},
       nullptr,
       Transform::kNone,
       /*integer=*/true},
      {"load",
       "Load per ready pod against the HPA target",
       "requests / s per pod",
       {{"offered per ready pod", "series.load_per_pod_qps", "#4e79a7"},
        {"HPA target (AverageValue)", "hpa.pods_metric_target", "#e15759", Anchor::kMid, Transform::kFlat}}},
      {"cpu",
       "CPU utilization of running pods against the HPA target",
       "% of requested CPU",
       {{"CPU used / requested", "series.cpu_utilization_pct", "#59a14f"},
        {"HPA target (Utilization)", "hpa.cpu_target_pct", "#e15759", Anchor::kMid, Transform::kFlat}}},
      {"limiter",
       "Rate limiter: decisions and the auditor's verdicts",
       "decisions / s",
       {{"admitted", "limiter.series.admitted", "#59a14f", Anchor::kMid, Transform::kPerSecond},
        {"refused (429)", "limiter.series.refused", "#f28e2b", Anchor::kMid, Transform::kPerSecond},
        {"excess admits", "limiter.series.excess_admits", "#e15759", Anchor::kMid, Transform::kPerSecond},
        {"strict excess", "limiter.series.strict_excess", "#b07aa1", Anchor::kMid, Transform::kPerSecond},
        {"false refusals", "limiter.series.false_refusals", "#9c755f", Anchor::kMid, Transform::kPerSecond}}},
      {"pools",
       "PostgreSQL pools and connections (all pods)",
       "connections / requests",
       {{"pool in use", "series.pool_in_use", "#4e79a7", Anchor::kEnd},
        {"pool waiters", "series.pool_waiting", "#e15759", Anchor::kEnd},
        {"database connections", "series.db_connections", "#59a14f", Anchor::kEnd}},
       nullptr,
       Transform::kNone,
       /*integer=*/true},
  };
  return kCharts;
}

enum class Format { kCount, kNumber, kMs, kRate, kPercent, kSeconds };

struct RowDef {
  const char* label;
  const char* path;  // dotted from the report root; nullptr = a group heading
  Format format = Format::kNumber;
};

const std::vector<RowDef>& SummaryRows() {
  static const std::vector<RowDef> kRows = {
      {"Requests", nullptr},
      {"window (arrivals counted)", "summary.window_s", Format::kSeconds},
      {"offered", "summary.requests.offered", Format::kCount},
      {"completed", "summary.requests.completed", Format::kCount},
      {"rejected (all causes)", "summary.requests.rejected", Format::kCount},
      {"rejected:*", "summary.rejected_by_cause", Format::kCount},  // one row per non-zero cause
      {"rejected fraction", "summary.rejected_fraction", Format::kPercent},
      {"in flight at end", "summary.requests.in_flight_at_end", Format::kCount},
      {"offered rate", "summary.offered_rps", Format::kRate},
      {"throughput", "summary.throughput_rps", Format::kRate},
      {"Latency, arrival to completion", nullptr},
      {"mean", "summary.latency_ms.mean", Format::kMs},
      {"p50", "summary.latency_ms.p50", Format::kMs},
      {"p90", "summary.latency_ms.p90", Format::kMs},
      {"p95", "summary.latency_ms.p95", Format::kMs},
      {"p99", "summary.latency_ms.p99", Format::kMs},
      {"p99.9", "summary.latency_ms.p999", Format::kMs},
      {"max", "summary.latency_ms.max", Format::kMs},
      {"Queue wait, arrival at pod to start of service", nullptr},
      {"mean", "summary.queue_wait_ms.mean", Format::kMs},
      {"p50", "summary.queue_wait_ms.p50", Format::kMs},
      {"p99", "summary.queue_wait_ms.p99", Format::kMs},
      {"max", "summary.queue_wait_ms.max", Format::kMs},
      {"requests that waited (of those served)", "summary.queue_wait_ms.p_wait", Format::kPercent},
      {"Service and load", nullptr},
      {"pool wait mean", "summary.pool_wait_ms.mean", Format::kMs},
      {"pool wait p99", "summary.pool_wait_ms.p99", Format::kMs},
      {"database connections, peak", "summary.database.connections_max", Format::kCount},
      {"database connections refused", "summary.database.refused_connections", Format::kCount},
      {"service time mean", "summary.service_ms.mean", Format::kMs},
      {"service time p99", "summary.service_ms.p99", Format::kMs},
      {"mean requests in system (L)", "summary.mean_in_system", Format::kNumber},
      {"worker utilization", "summary.utilization", Format::kPercent},
      {"Cluster", nullptr},
      {"pods, most at once", "summary.cluster.replicas_max", Format::kCount},
      {"ready pods, most at once", "summary.cluster.ready_max", Format::kCount},
      {"pods created", "summary.cluster.pods_created", Format::kCount},
      {"pods deleted", "summary.cluster.pods_deleted", Format::kCount},
      {"HPA scale-ups", "summary.cluster.rescales_up", Format::kCount},
      {"HPA scale-downs", "summary.cluster.rescales_down", Format::kCount},
      {"first scale-up at", "summary.cluster.first_scale_up_s", Format::kSeconds},
      {"ready pods caught up after", "summary.cluster.catch_up_s", Format::kSeconds},
      {"container crashes", "summary.cluster.container_crashes", Format::kCount},
      {"PostgreSQL first refused a connection at", "summary.cluster.first_db_refusal_s", Format::kSeconds},
      {"pods up then", "summary.cluster.replicas_at_first_db_refusal", Format::kCount},
  };
  return kRows;
}

// Top-level keys with a dedicated section; any other array of objects gets a
// generic table.
const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> kKeys = {"schema",     "tool",         "mode",   "scenario", "summary",
                                              "tenants",    "routes",       "series", "histograms",
                                              "expectations", "passed",     "hpa",    "redis",    "real"};
  return kKeys;
}

// ---------------------------------------------------------------------------
// Reading a report defensively: nothing here assumes a key exists or has the
// expected type.

const json* Find(const json& root, const char* dotted) { return FindMetric(root, dotted); }

std::optional<double> Num(const json* v) {
  if (v && v->is_number()) return v->get<double>();
  return std::nullopt;
}

std::string Str(const json* v) {
  if (!v) return "";
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number() || v->is_boolean()) return v->dump();
  return "";
}

// An array of numbers; anything else in it (null, strings) becomes a gap.
std::vector<double> Numbers(const json* v) {
  std::vector<double> out;
  if (!v || !v->is_array()) return out;
  out.reserve(v->size());
  for (const json& x : *v) out.push_back(x.is_number() ? x.get<double>() : kNaN);
  return out;
}

bool AnyNonZero(const json* v) {
  if (!v || !v->is_array()) return false;
  return std::any_of(v->begin(), v->end(), [](const json& x) { return x.is_number() && x.get<double>() != 0; });
}

// ---------------------------------------------------------------------------
// Formatting.

std::string Printf(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// "-1234567.5" → "-1,234,567.5"; commas because the page has no locale.
std::string GroupThousands(const std::string& number) {
  const size_t sign = !number.empty() && number[0] == '-' ? 1 : 0;
  const size_t int_end = std::min(number.find('.'), number.size());
  std::string out = number.substr(0, sign);
  for (size_t i = sign; i < int_end; ++i) {
    if (i > sign && (int_end - i) % 3 == 0) out += ',';
    out += number[i];
  }
  out.append(number, int_end, std::string::npos);
  return out;
}

// Three to four significant digits, enough to compare runs by eye, with
// trailing zeros dropped ("25 ms", "35.1 ms", "1.25 %") and no float noise.
std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "∞" : "−∞");
  const double a = std::abs(v);
  if (a >= 1000) return GroupThousands(Printf("%.0f", v));
  std::string s = a >= 100 ? Printf("%.1f", v) : a >= 1 ? Printf("%.2f", v) : Printf("%.3g", v);
  if (s.find('.') != std::string::npos && s.find('e') == std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string FormatValue(std::optional<double> v, Format f) {
  if (!v) return "—";
  switch (f) {
    case Format::kCount:
    case Format::kNumber:
      return FormatNumber(*v);
    case Format::kMs:
      return FormatNumber(*v) + " ms";
    case Format::kRate:
      return FormatNumber(*v) + " req/s";
    case Format::kPercent:
      return FormatNumber(*v * 100) + " %";
    case Format::kSeconds:
      return FormatNumber(*v) + " s";
  }
  return FormatNumber(*v);
}

// A JSON scalar for a generic table cell; nested values as compact JSON.
std::string FormatCell(const json& v) {
  if (v.is_string()) return HtmlEscape(v.get<std::string>());
  if (v.is_number()) return FormatNumber(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_null()) return "—";
  return "<code>" + HtmlEscape(v.dump(-1, ' ', false, json::error_handler_t::replace)) + "</code>";
}

std::string Badge(bool passed) {
  return passed ? "<span class=\"badge pass\">PASS</span>" : "<span class=\"badge fail\">FAIL</span>";
}

// ---------------------------------------------------------------------------
// Sections.

struct Run {
  const json* report;
  std::string label;
  bool dashed;
};

const char kCss[] = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #fafafa;
       margin: 0; padding: 24px; }
main { max-width: 1100px; margin: 0 auto; }
h1 { font-size: 22px; margin: 0 0 6px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.description { white-space: pre-wrap; margin: 4px 0 14px; color: #333; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.facts dt { color: #666; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; min-width: 40%; }
th, td { border: 1px solid #e2e2e2; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.sub { padding-left: 26px; }
tr.group th { background: #e9ecef; text-align: left; }
tr.failed td { background: #fff1f0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; font-weight: 700; font-size: 12px;
         letter-spacing: .04em; }
.badge.pass { background: #e6f4ea; color: #1e7b34; border: 1px solid #9fd5ad; }
.badge.fail { background: #fde8e8; color: #b3261e; border: 1px solid #f2a7a2; }
h1 .badge { font-size: 15px; padding: 2px 12px; }
.warning { background: #fff8e1; border: 1px solid #f3d27a; padding: 6px 10px; border-radius: 4px; }
.note { color: #666; }
figure { margin: 0 0 16px; background: #fff; border: 1px solid #e2e2e2; border-radius: 4px; padding: 6px; }
svg.chart { display: block; max-width: 100%; height: auto; }
footer { margin-top: 32px; color: #777; font-size: 12px; }
@media print { body { background: #fff; padding: 0; } figure { break-inside: avoid; } }
)css";

void Header(std::string& out, const Run& main, const Run* overlay, const HtmlContext& ctx) {
  const json& r = *main.report;
  const std::string name = Str(Find(r, "scenario.name"));
  out += "<header>\n<h1>" + (name.empty() ? std::string("(unnamed scenario)") : HtmlEscape(name));
  if (const json* p = Find(r, "passed"); p && p->is_boolean()) out += " " + Badge(p->get<bool>());
  out += "</h1>\n";
  if (const std::string d = Str(Find(r, "scenario.description")); !d.empty())
    out += "<p class=\"description\">" + HtmlEscape(d) + "</p>\n";
  if (const std::string schema = Str(Find(r, "schema")); schema != kReportSchema) {
    out += "<p class=\"warning\">This page was written for schema <code>" + HtmlEscape(kReportSchema) +
           "</code>; the report says <code>" + HtmlEscape(schema.empty() ? "(none)" : schema) +
           "</code>. Sections it does not recognise are shown as tables or left out.</p>\n";
  }

  out += "<dl class=\"facts\">\n";
  auto fact = [&out](const std::string& term, const std::string& escaped_value) {
    if (!escaped_value.empty()) out += "<dt>" + term + "</dt><dd>" + escaped_value + "</dd>\n";
  };
  fact("Mode", HtmlEscape(Str(Find(r, "mode"))));
  fact("Seed", HtmlEscape(Str(Find(r, "scenario.seed"))));
  if (const std::string h = Str(Find(r, "scenario.hash")); !h.empty())
    fact("Scenario hash", "<span class=\"mono\">" + HtmlEscape(h) + "</span>");
  if (auto d = Num(Find(r, "scenario.duration_s"))) fact("Duration", FormatValue(d, Format::kSeconds));
  if (auto w = Num(Find(r, "scenario.warmup_s")))
    fact("Warm-up (excluded from summary)", FormatValue(w, Format::kSeconds));
  if (auto i = Num(Find(r, "series.interval_s"))) fact("Series interval", FormatValue(i, Format::kSeconds));
  if (const std::string tool = Str(Find(r, "tool.name")); !tool.empty())
    fact("Tool", HtmlEscape(tool + " " + Str(Find(r, "tool.version"))));
  fact("Generated at (UTC)", HtmlEscape(ctx.generated_at_utc));
  if (ctx.wall_seconds) fact("Wall-clock time", FormatValue(ctx.wall_seconds, Format::kSeconds));
  fact("Machine", HtmlEscape(ctx.machine));
  if (overlay) {
    const json& o = *overlay->report;
    std::string text =
        "solid lines: <b>" + HtmlEscape(main.label) + "</b>; dashed lines: <b>" + HtmlEscape(overlay->label) + "</b>";
    const std::string oname = Str(Find(o, "scenario.name")), ohash = Str(Find(o, "scenario.hash"));
    if (oname != name || ohash != Str(Find(r, "scenario.hash"))) {
      text += " <span class=\"warning\">the overlay ran a different scenario: " + HtmlEscape(oname) +
              " <span class=\"mono\">" + HtmlEscape(ohash) + "</span></span>";
    }
    fact("Overlay", text);
  }
  out += "</dl>\n</header>\n";
}

std::string Bounds(const json& e) {
  const auto lo = Num(Find(e, "min")), hi = Num(Find(e, "max"));
  if (lo && hi) return FormatNumber(*lo) + " ≤ x ≤ " + FormatNumber(*hi);
  if (lo) return "≥ " + FormatNumber(*lo);
  if (hi) return "≤ " + FormatNumber(*hi);
  return "—";
}

void Expectations(std::string& out, const std::vector<Run>& runs) {
  bool any = false;
  for (const Run& run : runs) {
    const json* list = Find(*run.report, "expectations");
    if (list && list->is_array() && !list->empty()) any = true;
  }
  if (!any) return;
  out += "<section id=\"expectations\">\n<h2>Expectations</h2>\n";
  for (const Run& run : runs) {
    const json* list = Find(*run.report, "expectations");
    if (!list || !list->is_array() || list->empty()) continue;
    int failed = 0;
    for (const json& e : *list) {
      const json* p = e.is_object() ? Find(e, "passed") : nullptr;
      if (!(p && p->is_boolean() && p->get<bool>())) ++failed;
    }
    if (runs.size() > 1) out += "<h3>" + HtmlEscape(run.label) + "</h3>\n";
    out += "<p>" + std::to_string(list->size() - failed) + " of " + std::to_string(list->size()) + " passed" +
           (failed ? ", <b>" + std::to_string(failed) + " failed</b>" : std::string()) + ".</p>\n";
    out +=
        "<table class=\"expectations\">\n<tr><th>metric</th><th>bound</th><th>actual</th><th>result</th>"
        "<th>description</th></tr>\n";
    for (const json& e : *list) {
      if (!e.is_object()) continue;
      const json* p = Find(e, "passed");
      const bool passed = p && p->is_boolean() && p->get<bool>();
      out += passed ? "<tr>" : "<tr class=\"failed\">";
      out += "<td><code>" + HtmlEscape(Str(Find(e, "metric"))) + "</code></td>";
      out += "<td class=\"num\">" + Bounds(e) + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(e, "actual")), Format::kNumber) + "</td>";
      out += "<td>" + Badge(passed) + "</td><td>";
      const std::string desc = Str(Find(e, "description")), error = Str(Find(e, "error"));
      out += HtmlEscape(desc);
      if (!error.empty()) out += (desc.empty() ? "" : "<br>") + std::string("<b>error:</b> ") + HtmlEscape(error);
      out += "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</section>\n";
}

void SummaryTable(std::string& out, const std::vector<Run>& runs) {
  if (!std::any_of(runs.begin(), runs.end(), [](const Run& r) { return Find(*r.report, "summary") != nullptr; }))
    return;
  out += "<section id=\"summary\">\n<h2>Summary</h2>\n";
  if (auto w = Num(Find(*runs[0].report, "scenario.warmup_s")); w && *w > 0) {
    out += "<p class=\"note\">Counts and percentiles cover requests that arrived after the " +
           FormatValue(w, Format::kSeconds) + " warm-up and before the end of the run.</p>\n";
  }
  out += "<table class=\"summary\">\n<tr><th>metric</th>";
  for (const Run& run : runs) out += "<th>" + HtmlEscape(run.label) + "</th>";
  out += "</tr>\n";
  const std::string colspan = std::to_string(runs.size() + 1);
  auto row = [&](const std::string& label, auto value_of, Format f, bool sub) {
    out += std::string(sub ? "<tr><td class=\"sub\">" : "<tr><td>") + HtmlEscape(label) + "</td>";
    for (const Run& run : runs) out += "<td class=\"num\">" + FormatValue(value_of(*run.report), f) + "</td>";
    out += "</tr>\n";
  };
  for (const RowDef& def : SummaryRows()) {
    if (!def.path) {
      out += "<tr class=\"group\"><th colspan=\"" + colspan + "\">" + HtmlEscape(def.label) + "</th></tr>\n";
      continue;
    }
    const std::string label = def.label;
    if (label.size() > 1 && label.back() == '*') {
      // Expand an object of counts into one row per member that is non-zero in any run.
      std::vector<std::string> keys;
      for (const Run& run : runs) {
        const json* obj = Find(*run.report, def.path);
        if (!obj || !obj->is_object()) continue;
        for (const auto& [k, v] : obj->items()) {
          if (v.is_number() && v.get<double>() != 0 && std::find(keys.begin(), keys.end(), k) == keys.end())
            keys.push_back(k);
        }
      }
      for (const std::string& k : keys) {
        row(
            label.substr(0, label.size() - 1) + " " + k,
            [&](const json& r) -> std::optional<double> {
              const json* obj = Find(r, def.path);
              if (!obj || !obj->is_object()) return std::nullopt;
              auto it = obj->find(k);
              return it == obj->end() ? std::nullopt : Num(&*it);
            },
            def.format, /*sub=*/true);
      }
      continue;
    }
    row(
        label, [&](const json& r) { return Num(Find(r, def.path)); }, def.format, /*sub=*/false);
  }
  out += "</table>\n</section>\n";
}

// Per-tenant or per-route outcome table(s): one table per run.
void OutcomeTables(std::string& out, const std::vector<Run>& runs, const char* key, const char* title,
                   const char* what) {
  bool any = false;
  for (const Run& run : runs) {
    const json* obj = Find(*run.report, key);
    if (obj && obj->is_object() && !obj->empty()) any = true;
  }
  if (!any) return;
  out += std::string("<section id=\"") + key + "\">\n<h2>" + title + "</h2>\n";
  for (const Run& run : runs) {
    const json* obj = Find(*run.report, key);
    if (!obj || !obj->is_object() || obj->empty()) continue;
    if (runs.size() > 1) out += "<h3>" + HtmlEscape(run.label) + "</h3>\n";
    out += std::string("<table>\n<tr><th>") + what +
           "</th><th>offered</th><th>completed</th><th>rejected</th><th>rejected %</th>"
           "<th>rejected by cause (non-zero)</th></tr>\n";
    for (const auto& [id, c] : obj->items()) {
      if (!c.is_object()) continue;
      const auto offered = Num(Find(c, "offered")), rejected = Num(Find(c, "rejected"));
      out += "<tr><td>" + HtmlEscape(id) + "</td>";
      out += "<td class=\"num\">" + FormatValue(offered, Format::kCount) + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(c, "completed")), Format::kCount) + "</td>";
      out += "<td class=\"num\">" + FormatValue(rejected, Format::kCount) + "</td>";
      std::optional<double> fraction;
      if (offered && rejected && *offered > 0) fraction = *rejected / *offered;
      out += "<td class=\"num\">" + FormatValue(fraction, Format::kPercent) + "</td><td>";
      std::string causes;
      if (const json* by = Find(c, "rejected_by_cause"); by && by->is_object()) {
        for (const auto& [cause, n] : by->items()) {
          if (!n.is_number() || n.get<double>() == 0) continue;
          if (!causes.empty()) causes += ", ";
          causes += HtmlEscape(cause) + " " + FormatNumber(n.get<double>());
        }
      }
      out += causes + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</section>\n";
}

// The x positions of a run's series: interval start (t_s, or i·interval when
// absent) shifted to the interval's middle or end.
std::vector<double> XPositions(const json& r, size_t n, Anchor anchor) {
  const double interval = Num(Find(r, "series.interval_s")).value_or(1.0);
  const std::vector<double> t = Numbers(Find(r, "series.t_s"));
  std::vector<double> x(n);
  const double shift = anchor == Anchor::kMid ? interval / 2 : interval;
  for (size_t i = 0; i < n; ++i) x[i] = (i < t.size() && std::isfinite(t[i]) ? t[i] : i * interval) + shift;
  return x;
}

std::vector<Point> SeriesPoints(const json& r, const json* values, Anchor anchor, Transform transform) {
  const std::vector<double> y = Numbers(values);
  const std::vector<double> x = XPositions(r, y.size(), anchor);
  const double interval = Num(Find(r, "series.interval_s")).value_or(1.0);
  const std::vector<double> completed =
      transform == Transform::kGapIfNoCompletions ? Numbers(Find(r, "series.completed")) : std::vector<double>();
  std::vector<Point> pts(y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    double v = y[i];
    if (transform == Transform::kPerSecond) v = interval > 0 ? v / interval : kNaN;
    if (transform == Transform::kGapIfNoCompletions && i < completed.size() && completed[i] == 0) v = kNaN;
    pts[i] = {x[i], v};
  }
  return pts;
}

std::string SeriesLabel(const std::string& name, const Run& run, size_t run_count) {
  return run_count > 1 ? name + " · " + run.label : name;
}

void ChartsSection(std::string& out, const std::vector<Run>& runs) {
  double x_max = 0;
  for (const Run& run : runs) x_max = std::max(x_max, Num(Find(*run.report, "scenario.duration_s")).value_or(0));
  std::string charts;
  for (const ChartDef& def : Charts()) {
    LineChart chart;
    chart.id = def.id;
    chart.title = def.title;
    chart.y_label = def.y_label;
    chart.y_integer = def.integer;
    chart.x_min = 0;
    if (x_max > 0) chart.x_max = x_max;
    // Series first, then runs, so "p99 · sim" sits next to "p99 · real" in the legend.
    for (const SeriesDef& s : def.series) {
      for (const Run& run : runs) {
        const json* values = Find(*run.report, s.path);
        if (s.transform == Transform::kFlat) {
          const std::optional<double> level = Num(values);
          const json* t = Find(*run.report, "series.t_s");
          if (!level || !t || !t->is_array() || t->empty() || chart.series.empty()) continue;
          const std::vector<double> x = XPositions(*run.report, t->size(), Anchor::kMid);
          std::vector<Point> pts;
          for (double xi : x) pts.push_back({xi, *level});
          chart.series.push_back({SeriesLabel(s.label, run, runs.size()), std::move(pts), s.color, true});
          continue;
        }
        if (!values || !values->is_array()) continue;
        chart.series.push_back({SeriesLabel(s.label, run, runs.size()),
                                SeriesPoints(*run.report, values, s.anchor, s.transform), s.color, run.dashed});
      }
    }
    if (def.expand) {
      std::vector<std::string> keys;  // members non-zero in any run, in report order
      for (const Run& run : runs) {
        const json* obj = Find(*run.report, def.expand);
        if (!obj || !obj->is_object()) continue;
        for (const auto& [k, v] : obj->items()) {
          if (AnyNonZero(&v) && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
        }
      }
      for (size_t ki = 0; ki < keys.size(); ++ki) {
        for (const Run& run : runs) {
          const json* obj = Find(*run.report, def.expand);
          if (!obj || !obj->is_object()) continue;
          auto it = obj->find(keys[ki]);
          if (it == obj->end() || !it->is_array()) continue;
          // Skip the reject-red for causes so "rejected" in the traffic chart stays distinct.
          chart.series.push_back({SeriesLabel(keys[ki], run, runs.size()),
                                  SeriesPoints(*run.report, &*it, Anchor::kMid, def.expand_transform),
                                  PaletteColor(ki < 2 ? ki : ki + 1), run.dashed});
        }
      }
    }
    if (chart.series.empty()) continue;
    charts += "<figure id=\"chart-" + HtmlEscape(def.id) + "\">\n" + RenderLineChart(chart) + "</figure>\n";
  }
  if (charts.empty()) return;
  out += "<section id=\"charts\">\n<h2>Over time</h2>\n";
  if (auto i = Num(Find(*runs[0].report, "series.interval_s"))) {
    out += "<p class=\"note\">Each point is one " + FormatValue(i, Format::kSeconds) +
           " interval over the whole run (warm-up included), placed at its middle; levels sampled at an "
           "interval's end are placed at its end. Latency gaps are intervals with no completions.</p>\n";
  }
  out += charts + "</section>\n";
}

// The HPA decision table: every reconcile that rescaled, failed or was
// limited, plus the first; the rest only repeat "within range".
void HpaDecisions(std::string& out, const std::vector<Run>& runs) {
  bool any = false;
  for (const Run& run : runs) any = any || Find(*run.report, "hpa.decisions") != nullptr;
  if (!any) return;
  out += "<section id=\"hpa\">\n<h2>HPA decisions</h2>\n";
  for (const Run& run : runs) {
    const json* rows = Find(*run.report, "hpa.decisions");
    if (!rows || !rows->is_array()) continue;
    if (runs.size() > 1) out += "<h3>" + HtmlEscape(run.label) + "</h3>\n";
    std::string targets;
    if (const json* t = Find(*run.report, "hpa.targets"); t && t->is_array()) {
      for (const json& x : *t) targets += (targets.empty() ? "" : "; ") + HtmlEscape(Str(&x));
    }
    out += "<p class=\"note\">Targets: " + targets + ". " + std::to_string(rows->size()) +
           " reconciles; shown: the first, and each that rescaled, failed or was limited by a rule.</p>\n";
    out += "<table>\n<tr><th>t</th><th>current</th><th>per-metric proposal</th><th>metric replicas</th>"
           "<th>recommendation</th><th>desired</th><th>limits applied</th><th>reason</th></tr>\n";
    size_t shown = 0;
    for (size_t i = 0; i < rows->size(); ++i) {
      const json& row = (*rows)[i];
      if (!row.is_object()) continue;
      const bool rescale = row.value("rescale", false);
      const std::string limiting = Str(Find(row, "limiting_reason"));
      const bool limited = !limiting.empty() && limiting != "DesiredWithinRange";
      std::string proposals;
      bool failed = false;
      if (const json* ps = Find(row, "proposals"); ps && ps->is_array()) {
        for (const json& p : *ps) {
          if (!proposals.empty()) proposals += "<br>";
          if (p.value("ok", false)) {
            proposals += HtmlEscape(Str(Find(p, "metric"))) + ": " + FormatValue(Num(Find(p, "replicas")), Format::kCount) +
                         " (usage " + FormatValue(Num(Find(p, "usage")), Format::kNumber) + " vs " +
                         HtmlEscape(Str(Find(p, "target"))) + ")";
          } else {
            failed = true;
            proposals += HtmlEscape(Str(Find(p, "metric"))) + ": failed";
          }
        }
      }
      if (i > 0 && !rescale && !limited && !failed) continue;
      if (++shown > kMaxGenericRows) break;
      out += "<tr><td class=\"num\">" + FormatValue(Num(Find(row, "t_s")), Format::kSeconds) + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(row, "current")), Format::kCount) + "</td>";
      out += "<td>" + proposals + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(row, "metric_replicas")), Format::kCount) + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(row, "recommendation")), Format::kCount) + "</td>";
      out += "<td class=\"num\">" + FormatValue(Num(Find(row, "desired")), Format::kCount) + (rescale ? " ↕" : "") + "</td>";
      out += "<td>" + HtmlEscape(limited ? limiting : "") + "</td>";
      out += "<td>" + HtmlEscape(Str(Find(row, "reason"))) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "</section>\n";
}

// A real run's conditions (the report's `real` object): what the machine and
// the load generator were, what happened to Redis, and which scenario
// settings were emulated or not applied — what a reader needs before
// comparing its numbers with a simulator's.
void RealRunSection(std::string& out, const std::vector<Run>& runs) {
  bool any = false;
  for (const Run& run : runs) any = any || (Find(*run.report, "real") && Find(*run.report, "real")->is_object());
  if (!any) return;
  out += "<section id=\"real\">\n<h2>Real run</h2>\n";
  auto list = [&out](const char* term, const json* items) {
    if (!items || !items->is_array() || items->empty()) return;
    out += "<dt>" + std::string(term) + "</dt><dd><ul>";
    for (const json& item : *items) out += "<li>" + HtmlEscape(item.is_string() ? Str(&item) : item.dump()) + "</li>";
    out += "</ul></dd>\n";
  };
  for (const Run& run : runs) {
    const json* real = Find(*run.report, "real");
    if (!real || !real->is_object()) continue;
    if (runs.size() > 1) out += "<h3>" + HtmlEscape(run.label) + "</h3>\n";
    out += "<dl class=\"facts\">\n";
    auto fact = [&out](const char* term, const std::string& escaped) {
      if (!escaped.empty()) out += "<dt>" + std::string(term) + "</dt><dd>" + escaped + "</dd>\n";
    };
    fact("Machine", HtmlEscape(Str(Find(*real, "machine"))));
    fact("Pods", FormatValue(Num(Find(*real, "pods")), Format::kCount));
    fact("Requests replayed", FormatValue(Num(Find(*real, "requests")), Format::kCount));
    if (auto p99 = Num(Find(*real, "generator.lag_p99_ms"))) {
      fact("Load generator lag (p99 / max)",
           FormatValue(p99, Format::kMs) + " / " + FormatValue(Num(Find(*real, "generator.lag_max_ms")), Format::kMs));
    }
    if (auto u = Num(Find(*real, "unexpected_in_window")); u && *u > 0)
      fact("Unexpected answers in the window", "<span class=\"warning\">" + FormatValue(u, Format::kCount) + "</span>");
    if (const json* events = Find(*real, "redis_events"); events && events->is_array() && !events->empty()) {
      out += "<dt>Redis events</dt><dd><ul>";
      for (const json& e : *events) {
        if (!e.is_object()) continue;
        out += "<li>" + HtmlEscape(Str(Find(e, "kind"))) + " at " + FormatValue(Num(Find(e, "at_s")), Format::kSeconds);
        if (auto down = Num(Find(e, "down_s"))) out += ", down " + FormatValue(down, Format::kSeconds);
        if (const json* up = Find(e, "restarted"); up && up->is_boolean())
          out += up->get<bool>() ? ", back" : ", <span class=\"warning\">not back: " + HtmlEscape(Str(Find(e, "error"))) + "</span>";
        out += "</li>";
      }
      out += "</ul></dd>\n";
    }
    list("Emulated", Find(*real, "emulated"));
    list("Not applied (simulator only)", Find(*real, "not_applied"));
    out += "</dl>\n";
  }
  out += "</section>\n";
}

// Any other top-level array of objects: columns are the union of member keys
// in first-seen order; a boolean "passed" column gets PASS/FAIL styling.
void GenericTables(std::string& out, const std::vector<Run>& runs) {
  std::vector<std::string> keys;
  for (const Run& run : runs) {
    if (!run.report->is_object()) continue;
    for (const auto& [k, v] : run.report->items()) {
      if (KnownKeys().count(k) || !v.is_array() || v.empty() || !v[0].is_object()) continue;
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
  for (const std::string& key : keys) {
    out += "<section id=\"extra-" + HtmlEscape(key) + "\">\n<h2>" + HtmlEscape(key) + "</h2>\n";
    for (const Run& run : runs) {
      auto it = run.report->find(key);
      if (it == run.report->end() || !it->is_array()) continue;
      std::vector<std::string> cols;
      for (const json& row : *it) {
        if (!row.is_object()) continue;
        for (const auto& [c, v] : row.items()) {
          if (std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
        }
      }
      if (runs.size() > 1) out += "<h3>" + HtmlEscape(run.label) + "</h3>\n";
      out += "<table>\n<tr>";
      for (const std::string& c : cols) out += "<th>" + HtmlEscape(c) + "</th>";
      out += "</tr>\n";
      size_t shown = 0;
      for (const json& row : *it) {
        if (!row.is_object()) continue;
        if (++shown > kMaxGenericRows) break;
        const auto p = row.find("passed");
        const bool failed = p != row.end() && p->is_boolean() && !p->get<bool>();
        out += failed ? "<tr class=\"failed\">" : "<tr>";
        for (const std::string& c : cols) {
          auto v = row.find(c);
          if (v == row.end())
            out += "<td></td>";
          else if (v->is_boolean() && c == "passed")
            out += "<td>" + Badge(v->get<bool>()) + "</td>";
          else
            out += std::string(v->is_number() ? "<td class=\"num\">" : "<td>") + FormatCell(*v) + "</td>";
        }
        out += "</tr>\n";
      }
      out += "</table>\n";
      if (it->size() > kMaxGenericRows) {
        out += "<p class=\"note\">First " + std::to_string(kMaxGenericRows) + " of " + std::to_string(it->size()) +
               " rows; the rest are in report.json.</p>\n";
      }
    }
    out += "</section>\n";
  }
}

std::string DefaultLabel(const json& r, const std::string& given, const char* fallback) {
  if (!given.empty()) return given;
  const std::string mode = Str(Find(r, "mode"));
  return mode.empty() ? fallback : mode;
}

std::string ErrorPage(const std::string& message) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>scaletwin report</title></head>"
         "<body><h1>scaletwin report</h1><p>This report could not be rendered: " +
         HtmlEscape(message) + "</p></body></html>\n";
}

std::string Render(const json& report, const HtmlContext& ctx) {
  if (!report.is_object()) return ErrorPage("report.json is not a JSON object");
  std::vector<Run> runs = {{&report, DefaultLabel(report, ctx.label, "run"), false}};
  if (ctx.overlay && ctx.overlay->is_object()) {
    std::string label = DefaultLabel(*ctx.overlay, ctx.overlay_label, "overlay");
    if (label == runs[0].label) label += " (overlay)";  // two sim runs would otherwise share a legend name
    runs.push_back({ctx.overlay, label, true});
  }
  const Run* overlay = runs.size() > 1 ? &runs[1] : nullptr;

  std::string out;
  out.reserve(size_t{64} * 1024);
  const std::string name = Str(Find(report, "scenario.name"));
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + HtmlEscape(name.empty() ? "scaletwin report" : name + " — scaletwin report") + "</title>\n";
  out += "<style>" + std::string(kCss) + "</style>\n</head>\n<body>\n<main>\n";
  Header(out, runs[0], overlay, ctx);
  Expectations(out, runs);
  SummaryTable(out, runs);
  ChartsSection(out, runs);
  OutcomeTables(out, runs, "tenants", "Per tenant", "tenant");
  OutcomeTables(out, runs, "routes", "Per route", "route");
  HpaDecisions(out, runs);
  RealRunSection(out, runs);
  GenericTables(out, runs);
  out += "<footer>Generated by scaletwin";
  if (const std::string v = Str(Find(report, "tool.version")); !v.empty()) out += " " + HtmlEscape(v);
  out += " from report.json (schema " + HtmlEscape(Str(Find(report, "schema"))) +
         "). Self-contained: no scripts, no network.</footer>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace

std::string RenderHtml(const nlohmann::json& report, const HtmlContext& ctx) {
  try {
    return Render(report, ctx);
  } catch (const std::exception& e) {
    // Only reachable through a bug or memory exhaustion; a page that says so
    // beats an exception escaping into the CLI after the run already finished.
    try {
      return ErrorPage(e.what());
    } catch (...) {
      return std::string();
    }
  }
}

}  // namespace scaletwin::reports
