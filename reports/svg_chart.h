// Line charts as inline SVG text, for report.html.
//
// The HTML report must open offline with no JavaScript library, so charts are
// drawn here: a multi-series line chart with nice axis ticks, tick labels,
// grid, axis titles with units and a legend. The output is a standalone
// <svg> element (fonts and colours inline, no external references), and a
// pure function of its input so a report renders byte-identically.
//
//   LineChart c;
//   c.id = "latency";  c.title = "Latency";  c.y_label = "ms";
//   c.series.push_back({"p99", pts, "#e15759", /*dashed=*/false});
//   html += RenderLineChart(c);
//
// Series longer than max_points are reduced with DownsampleMinMax so spikes
// stay visible. Non-finite y values are gaps: the line breaks there.
// Every label is HTML-escaped here; callers pass plain text.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "reports/downsample.h"

namespace scaletwin::reports {

// Axis ticks: lo and hi are multiples of step and enclose the data.
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;  // lo, lo + step, ..., hi (computed as k·step, no drift)
};

// Ticks covering [lo, hi] with about `target` intervals and a step of 1, 2 or
// 5 × 10^k (at least 1 when `integer`, for counts of pods and the like). A
// degenerate or non-finite range is widened to something drawable.
Ticks NiceTicks(double lo, double hi, int target = 5, bool integer = false);

// One label per tick value, formatted alike: the same number of decimals
// (just enough for the step) and a shared k/M/G suffix for large axes, so an
// axis reads "0 5k 10k" rather than "0 5000 10000".
std::vector<std::string> FormatTickLabels(const Ticks& ticks);

// A colour-blind-friendly palette (Tableau 10); wraps around.
const char* PaletteColor(size_t index);

struct ChartSeries {
  std::string label;
  std::vector<Point> points;  // ascending x
  std::string color;          // any CSS colour; empty = PaletteColor(position in chart)
  bool dashed = false;        // used for the overlay (second) run
};

struct LineChart {
  std::string id = "chart";  // unique within the page: prefixes element ids
  std::string title;
  std::string x_label = "time (s)";
  std::string y_label;  // include the unit, e.g. "latency (ms)"
  std::vector<ChartSeries> series;
  std::optional<double> x_min, x_max;  // axis domain; default: the data's extent
  std::optional<double> y_min, y_max;  // default: the data's extent, see y_include_zero
  bool y_include_zero = true;          // counts and latencies read wrong without a zero baseline
  bool y_integer = false;              // whole-number y ticks (pods, queue slots)
  int width = 760, height = 280;       // SVG user units (pixels at 100 %)
  size_t max_points = 2000;            // per series, after DownsampleMinMax
};

// The chart as one <svg>…</svg> element. Series with no finite point still get
// a legend entry; a chart with no data at all says so inside the plot area.
std::string RenderLineChart(const LineChart& chart);

}  // namespace scaletwin::reports
