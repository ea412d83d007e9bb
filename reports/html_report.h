// RenderHtml: report.json as one self-contained report.html.
//
// The page opens offline and forever: inline CSS, inline SVG charts drawn by
// svg_chart.h, no JavaScript, no fonts or images fetched from anywhere. It
// shows the scenario's identity, the expectations (PASS/FAIL), a summary
// table, one chart per time series group, per-tenant and per-route tables,
// and any further top-level array of objects (a later "comparison" table,
// limiter audit, HPA decisions) as a generic table.
//
//   HtmlContext ctx;
//   ctx.generated_at_utc = "2024-05-01T12:00:00Z";
//   std::string html = RenderHtml(report, ctx);
//
// Contract:
//  - Every string taken from a report is HTML-escaped (descriptions are user input).
//  - Missing or mistyped sections are skipped, never an error: a chart whose
//    series are all absent is left out, a table row whose value is absent
//    shows "—". A value that is not a JSON object yields a short error page.
//  - With ctx.overlay set, every time-series chart draws both runs (primary
//    solid, overlay dashed, legend "<series> · sim" / "<series> · real") and
//    the summary table gets a column per run.
//  - Deterministic: the same inputs give the same bytes. Wall-clock facts come
//    only from ctx, never from the clock, because report.json must not carry them.
//  - Never throws.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace scaletwin::reports {

// Facts about the run that are not part of report.json (they would break the
// simulator's byte-identical output) but help a reader of the page.
struct HtmlContext {
  std::string generated_at_utc;        // ISO 8601; empty = not shown
  std::optional<double> wall_seconds;  // how long the run took on the wall clock
  std::string machine;                 // e.g. "x86_64, 8 cores, Linux 6.1"; empty = not shown
  // Legend name of the main report; empty = its "mode" ("sim" / "real").
  std::string label;
  // A second report drawn on the same charts (sim versus real). Not owned;
  // must outlive the RenderHtml call. nullptr = no overlay.
  const nlohmann::json* overlay = nullptr;
  std::string overlay_label;  // empty = the overlay's "mode"
};

// The complete HTML document.
std::string RenderHtml(const nlohmann::json& report, const HtmlContext& ctx);

}  // namespace scaletwin::reports
