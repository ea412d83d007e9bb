#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "reports/html_escape.h"

namespace scaletwin::reports {

namespace {

// Text metrics are estimated, not measured (no font engine here): 11 px
// system-ui averages about 6.2 px per character; 6.6 errs on the roomy side.
constexpr double kCharWidth = 6.6;
constexpr int kFontSize = 11;
constexpr int kMaxTicks = 100;

// Rounds x to 1, 2, 5 or 10 × 10^k; the nearest when `round`, else the next up.
double NiceNumber(double x, bool round) {
  const double exponent = std::floor(std::log10(x));
  const double magnitude = std::pow(10.0, exponent);
  const double f = x / magnitude;
  double nice;
  if (round)
    nice = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  else
    nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * magnitude;
}

// Coordinates to one decimal: sub-pixel enough, and keeps the page small.
std::string Coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

double TextWidth(const std::string& s) { return static_cast<double>(s.size()) * kCharWidth; }

struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

}  // namespace

Ticks NiceTicks(double lo, double hi, int target, bool integer) {
  Ticks t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return NiceTicks(0, 1, target, integer);
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    const double pad = lo == 0 ? 0.5 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double span = hi - lo;
  if (!std::isfinite(span)) return NiceTicks(0, 1, target, integer);
  target = std::clamp(target, 1, kMaxTicks - 1);
  t.step = NiceNumber(span / target, /*round=*/true);
  if (integer) t.step = std::max(t.step, 1.0);
  // The epsilon keeps a bound that is already a multiple of step (up to float
  // noise) from growing an extra, empty tick interval.
  auto k_lo = static_cast<long long>(std::floor(lo / t.step + 1e-9));
  auto k_hi = static_cast<long long>(std::ceil(hi / t.step - 1e-9));
  if (k_hi <= k_lo) k_hi = k_lo + 1;
  if (k_hi - k_lo > kMaxTicks) return NiceTicks(0, 1, target, integer);  // only reachable through float corner cases
  t.lo = static_cast<double>(k_lo) * t.step;
  t.hi = static_cast<double>(k_hi) * t.step;
  for (long long k = k_lo; k <= k_hi; ++k) t.values.push_back(static_cast<double>(k) * t.step);
  return t;
}

std::vector<std::string> FormatTickLabels(const Ticks& ticks) {
  const double max_abs = std::max(std::abs(ticks.lo), std::abs(ticks.hi));
  double scale = 1;
  const char* suffix = "";
  if (max_abs >= 1e10)
    scale = 1e9, suffix = "G";
  else if (max_abs >= 1e7)
    scale = 1e6, suffix = "M";
  else if (max_abs >= 1e4)
    scale = 1e3, suffix = "k";
  const double step = ticks.step / scale;
  const int decimals = step > 0 ? std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 12) : 0;
  std::vector<std::string> labels;
  const double half_unit = 0.5 * std::pow(10.0, -decimals);
  for (double v : ticks.values) {
    double shown = v / scale;
    if (std::abs(shown) < half_unit) {  // also catches k·step a hair below zero, which would print "-0"
      labels.emplace_back("0");
      continue;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f%s", decimals, shown, suffix);
    labels.emplace_back(buf);
  }
  return labels;
}

const char* PaletteColor(size_t index) {
  static constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1",
                                             "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[index % (sizeof kPalette / sizeof kPalette[0])];
}

std::string RenderLineChart(const LineChart& chart) {
  // Data extent over every finite point.
  Extent xs, ys;
  for (const ChartSeries& s : chart.series) {
    for (const Point& p : s.points) {
      if (!std::isfinite(p.y)) continue;
      xs.Add(p.x);
      ys.Add(p.y);
    }
  }
  const bool has_data = !ys.empty();
  double x0 = chart.x_min.value_or(xs.empty() ? 0 : xs.lo);
  double x1 = chart.x_max.value_or(xs.empty() ? 1 : xs.hi);
  if (!(x1 > x0)) x1 = x0 + 1;
  double y0 = chart.y_min.value_or(ys.empty() ? 0 : ys.lo);
  double y1 = chart.y_max.value_or(ys.empty() ? 1 : ys.hi);
  if (chart.y_include_zero && !chart.y_min) y0 = std::min(y0, 0.0);
  if (chart.y_include_zero && !chart.y_max) y1 = std::max(y1, 0.0);
  // Headroom, so a flat series at its maximum (1 replica all run long) is not
  // drawn on top of the plot's border.
  if (!chart.y_max && has_data && y1 > y0) y1 += (y1 - y0) * 0.04;

  const Ticks yt = NiceTicks(y0, y1, 5, chart.y_integer);
  const std::vector<std::string> ylabels = FormatTickLabels(yt);
  // The y axis spans the tick range (so the top gridline is labelled); the x
  // axis keeps the exact domain so a run's end is the chart's right edge.
  y0 = chart.y_min.value_or(yt.lo);
  y1 = chart.y_max.value_or(yt.hi);
  if (!(y1 > y0)) y1 = y0 + 1;
  const Ticks xt_all = NiceTicks(x0, x1, std::max(2, chart.width / 110));
  Ticks xt = xt_all;
  xt.values.clear();
  for (double v : xt_all.values) {
    if (v >= x0 - 1e-9 * (x1 - x0) && v <= x1 + 1e-9 * (x1 - x0)) xt.values.push_back(v);
  }
  const std::vector<std::string> xlabels = FormatTickLabels(xt);

  // Layout: title, legend rows, plot, x tick labels, x axis title.
  double widest_ylabel = 0;
  for (const std::string& l : ylabels) widest_ylabel = std::max(widest_ylabel, TextWidth(l));
  const double left = 22 + widest_ylabel + 8;  // room for the rotated y title, then labels
  const double right = 14;
  const double width = chart.width;
  struct LegendItem {
    double x, row;
  };
  std::vector<LegendItem> legend;
  {
    double x = left, row = 0;
    for (const ChartSeries& s : chart.series) {
      const double w = 22 + 5 + TextWidth(s.label) + 14;
      if (x + w > width - right && x > left) {
        x = left;
        row += 1;
      }
      legend.push_back({x, row});
      x += w;
    }
  }
  const double legend_rows = legend.empty() ? 0 : legend.back().row + 1;
  const double top = (chart.title.empty() ? 8 : 26) + legend_rows * 16 + 8;
  const double bottom = 44;
  const double height = std::max<double>(chart.height, top + bottom + 60);
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * plot_w; };
  auto py = [&](double y) { return top + plot_h - (y - y0) / (y1 - y0) * plot_h; };

  const std::string id = HtmlEscape(chart.id);
  std::string out;
  out.reserve(4096);
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 ";
  out += Coord(width) + " " + Coord(height) + "\" width=\"" + Coord(width) + "\" height=\"" + Coord(height);
  out += "\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" font-size=\"" + std::to_string(kFontSize);
  out += "\" aria-label=\"" + HtmlEscape(chart.title) + "\">\n";
  out += "<title>" + HtmlEscape(chart.title) + "</title>\n";
  out += "<defs><clipPath id=\"" + id + "-clip\"><rect x=\"" + Coord(left) + "\" y=\"" + Coord(top - 2) +
         "\" width=\"" + Coord(plot_w) + "\" height=\"" + Coord(plot_h + 4) + "\"/></clipPath></defs>\n";
  if (!chart.title.empty()) {
    out += "<text x=\"" + Coord(left) + "\" y=\"17\" font-size=\"13\" font-weight=\"600\" fill=\"#222\">" +
           HtmlEscape(chart.title) + "</text>\n";
  }

  // Legend: a short line in the series' colour and dash, then its label.
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& s = chart.series[i];
    const std::string color = s.color.empty() ? PaletteColor(i) : s.color;
    const double ly = (chart.title.empty() ? 8 : 26) + legend[i].row * 16 + 6;
    out += "<g class=\"legend\"><line x1=\"" + Coord(legend[i].x) + "\" y1=\"" + Coord(ly) + "\" x2=\"" +
           Coord(legend[i].x + 22) + "\" y2=\"" + Coord(ly) + "\" stroke=\"" + HtmlEscape(color) +
           "\" stroke-width=\"2.5\"" + (s.dashed ? " stroke-dasharray=\"6 3\"" : "") + "/>";
    out += "<text x=\"" + Coord(legend[i].x + 27) + "\" y=\"" + Coord(ly + 4) + "\" fill=\"#333\">" +
           HtmlEscape(s.label) + "</text></g>\n";
  }

  // Grid and tick labels.
  out += "<g class=\"grid\" stroke=\"#e3e3e3\" stroke-width=\"1\">";
  for (double v : yt.values) {
    if (v < y0 || v > y1) continue;
    out += "<line x1=\"" + Coord(left) + "\" x2=\"" + Coord(left + plot_w) + "\" y1=\"" + Coord(py(v)) + "\" y2=\"" +
           Coord(py(v)) + "\"/>";
  }
  for (double v : xt.values) {
    out += "<line x1=\"" + Coord(px(v)) + "\" x2=\"" + Coord(px(v)) + "\" y1=\"" + Coord(top) + "\" y2=\"" +
           Coord(top + plot_h) + "\"/>";
  }
  out += "</g>\n<g class=\"ticks\" fill=\"#555\">";
  for (size_t i = 0; i < yt.values.size(); ++i) {
    const double v = yt.values[i];
    if (v < y0 || v > y1) continue;
    out += "<text x=\"" + Coord(left - 6) + "\" y=\"" + Coord(py(v) + 4) + "\" text-anchor=\"end\">" +
           HtmlEscape(ylabels[i]) + "</text>";
  }
  for (size_t i = 0; i < xt.values.size(); ++i) {
    out += "<text x=\"" + Coord(px(xt.values[i])) + "\" y=\"" + Coord(top + plot_h + 16) +
           "\" text-anchor=\"middle\">" + HtmlEscape(xlabels[i]) + "</text>";
  }
  out += "</g>\n";
  // Axes.
  out += "<path d=\"M" + Coord(left) + " " + Coord(top) + "V" + Coord(top + plot_h) + "H" + Coord(left + plot_w) +
         "\" fill=\"none\" stroke=\"#888\"/>\n";
  out += "<text x=\"" + Coord(left + plot_w / 2) + "\" y=\"" + Coord(height - 8) +
         "\" text-anchor=\"middle\" fill=\"#333\">" + HtmlEscape(chart.x_label) + "</text>\n";
  const double ymid = top + plot_h / 2;
  out += "<text transform=\"translate(13 " + Coord(ymid) + ") rotate(-90)\" text-anchor=\"middle\" fill=\"#333\">" +
         HtmlEscape(chart.y_label) + "</text>\n";

  // Series, clipped to the plot so an explicit domain can cut them.
  out += "<g clip-path=\"url(#" + id + "-clip)\" fill=\"none\" stroke-width=\"1.6\" stroke-linejoin=\"round\">\n";
  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ChartSeries& s = chart.series[i];
    const std::string color = HtmlEscape(s.color.empty() ? PaletteColor(i) : s.color);
    const std::vector<Point> pts = DownsampleMinMax(s.points, chart.max_points);
    out += "<g class=\"series\" stroke=\"" + color + "\"" + (s.dashed ? " stroke-dasharray=\"6 3\"" : "") + "><title>" +
           HtmlEscape(s.label) + "</title>";
    // One polyline per run of finite points; a lone point becomes a dot.
    size_t i0 = 0;
    while (i0 < pts.size()) {
      while (i0 < pts.size() && !std::isfinite(pts[i0].y)) ++i0;
      size_t i1 = i0;
      while (i1 < pts.size() && std::isfinite(pts[i1].y)) ++i1;
      if (i1 - i0 == 1) {
        out += "<circle cx=\"" + Coord(px(pts[i0].x)) + "\" cy=\"" + Coord(py(pts[i0].y)) + "\" r=\"2\" fill=\"" +
               color + "\"/>";
      } else if (i1 - i0 > 1) {
        out += "<polyline points=\"";
        for (size_t k = i0; k < i1; ++k) {
          if (k > i0) out += ' ';
          out += Coord(px(pts[k].x));
          out += ',';
          out += Coord(py(pts[k].y));
        }
        out += "\"/>";
      }
      i0 = i1;
    }
    out += "</g>\n";
  }
  out += "</g>\n";
  if (!has_data) {
    out += "<text x=\"" + Coord(left + plot_w / 2) + "\" y=\"" + Coord(ymid) +
           "\" text-anchor=\"middle\" fill=\"#999\">no data</text>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace scaletwin::reports
