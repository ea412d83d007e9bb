#include "reports/html_report.h"

#include <gtest/gtest.h>

#include <string>

#include "reports/test_report.h"

namespace scaletwin::reports {
namespace {

using testing::SampleReport;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

bool Has(const std::string& html, const std::string& needle) { return html.find(needle) != std::string::npos; }

// The <tr>…</tr> that contains `needle`, for checks scoped to one table row.
std::string RowContaining(const std::string& html, const std::string& needle) {
  const size_t at = html.find(needle);
  if (at == std::string::npos) return "";
  const size_t begin = html.rfind("<tr", at);
  const size_t end = html.find("</tr>", at);
  if (begin == std::string::npos || end == std::string::npos) return "";
  return html.substr(begin, end - begin);
}

TEST(RenderHtml, IsOneSelfContainedDocumentWithAChartPerSeriesGroup) {
  const std::string html = RenderHtml(SampleReport(), {});
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(Has(html, "</html>"));
  EXPECT_EQ(Count(html, "<svg"), Count(html, "</svg>"));
  for (const char* id :
       {"chart-traffic", "chart-rejections", "chart-latency", "chart-queue", "chart-work", "chart-replicas"}) {
    EXPECT_TRUE(Has(html, std::string("id=\"") + id + "\"")) << id;
  }
  EXPECT_EQ(Count(html, "<svg"), 6u);
  // Offline forever: nothing fetched, nothing executed.
  EXPECT_FALSE(Has(html, "<script"));
  EXPECT_EQ(Count(html, "http"), Count(html, "xmlns=\"http://www.w3.org/2000/svg\""))
      << "only the SVG namespace URI (an identifier, never fetched) may appear";
  EXPECT_FALSE(Has(html, "url(http"));
  EXPECT_FALSE(Has(html, "@import"));
}

TEST(RenderHtml, ShowsIdentitySummaryAndPerTenantAndRouteTables) {
  const std::string html = RenderHtml(SampleReport(), {});
  for (const char* text : {"mm1-basic", "sha256:0123abcd", ">42<", "Per tenant", "acme", "globex", "Per route",
                           "redirect", "240.3 ms", "78.75 req/s", "79 %", "8 s"}) {
    EXPECT_TRUE(Has(html, text)) << text;
  }
}

TEST(RenderHtml, FormatsNumbersForReadingNotForParsing) {
  nlohmann::json r = SampleReport();
  r["summary"]["requests"]["offered"] = 1234567;
  r["summary"]["latency_ms"]["p50"] = 25.0;
  r["summary"]["latency_ms"]["p90"] = 0.000123;
  r["summary"]["latency_ms"]["p95"] = -1234.7;
  const std::string html = RenderHtml(r, {});
  EXPECT_TRUE(Has(RowContaining(html, "<td>offered</td>"), ">1,234,567<"));
  EXPECT_TRUE(Has(RowContaining(html, "<td>p50</td>"), ">25 ms<"));
  EXPECT_TRUE(Has(RowContaining(html, "<td>p90</td>"), ">0.000123 ms<"));
  EXPECT_TRUE(Has(RowContaining(html, "<td>p95</td>"), ">-1,235 ms<"));
  EXPECT_TRUE(Has(RowContaining(html, "<td>rejected fraction</td>"), ">1.25 %<"));
}

TEST(RenderHtml, ListsOnlyNonZeroRejectionCausesBesideTheTotal) {
  const std::string html = RenderHtml(SampleReport(), {});
  EXPECT_TRUE(Has(html, "rejected (all causes)"));
  EXPECT_TRUE(Has(html, "rejected: queue_full"));
  EXPECT_FALSE(Has(html, "rejected: pool_timeout"));
  EXPECT_TRUE(Has(RowContaining(html, "rejected: queue_full"), ">8<"));
}

TEST(RenderHtml, EscapesEveryStringFromTheReport) {
  nlohmann::json r = SampleReport();
  r["scenario"]["description"] = "<script>alert('x')</script> & \"co\"";
  r["scenario"]["name"] = "a<b";
  r["tenants"]["<img src=x onerror=alert(1)>"] = r["tenants"]["acme"];
  r["expectations"][0]["description"] = "</td><script>";
  const std::string html = RenderHtml(r, {});
  EXPECT_FALSE(Has(html, "<script"));
  EXPECT_FALSE(Has(html, "<img"));
  EXPECT_FALSE(Has(html, "a<b"));
  EXPECT_TRUE(Has(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"));
  EXPECT_TRUE(Has(html, "&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_TRUE(Has(html, "<title>a&lt;b — scaletwin report</title>"));
}

TEST(RenderHtml, MarksAFailedExpectationAndTheRunAsFail) {
  const std::string html = RenderHtml(SampleReport(), {});
  const std::string failed = RowContaining(html, "summary.rejected_fraction");
  EXPECT_TRUE(Has(failed, "class=\"failed\""));
  EXPECT_TRUE(Has(failed, ">FAIL<"));
  EXPECT_TRUE(Has(failed, "≤ 0.01"));
  const std::string passed = RowContaining(html, "summary.latency_ms.p99</code>");
  EXPECT_TRUE(Has(passed, ">PASS<"));
  EXPECT_FALSE(Has(passed, "class=\"failed\""));
  EXPECT_TRUE(Has(html, "1 of 2 passed"));
  const std::string h1 = html.substr(html.find("<h1>"), html.find("</h1>") - html.find("<h1>"));
  EXPECT_TRUE(Has(h1, "badge fail"));
}

TEST(RenderHtml, ShowsPassWhenEveryExpectationHeld) {
  nlohmann::json r = SampleReport();
  r["expectations"].erase(1);
  r["passed"] = true;
  const std::string html = RenderHtml(r, {});
  EXPECT_FALSE(Has(html, "badge fail"));
  EXPECT_TRUE(Has(html, "badge pass"));
}

TEST(RenderHtml, ExplainsAnExpectationWhoseMetricIsMissing) {
  nlohmann::json r = SampleReport();
  r["expectations"].push_back({{"metric", "summary.nope"},
                               {"min", 1},
                               {"passed", false},
                               {"error", "metric not found in the report (or not a number)"}});
  const std::string row = RowContaining(RenderHtml(r, {}), "summary.nope");
  EXPECT_TRUE(Has(row, "metric not found"));
  EXPECT_TRUE(Has(row, "≥ 1"));
  EXPECT_TRUE(Has(row, "—"));
}

TEST(RenderHtml, RendersWithoutOptionalSections) {
  const nlohmann::json minimal = {{"schema", "scaletwin.report/v1"}, {"mode", "sim"}, {"scenario", {{"name", "bare"}}}};
  const std::string html = RenderHtml(minimal, {});
  EXPECT_TRUE(Has(html, "bare"));
  EXPECT_TRUE(Has(html, "</html>"));
  EXPECT_FALSE(Has(html, "<svg"));
  EXPECT_FALSE(Has(html, "Expectations"));
  EXPECT_FALSE(Has(html, "Per tenant"));
  EXPECT_FALSE(Has(html, "class=\"badge"));

  nlohmann::json partial = SampleReport();  // some series missing, some mistyped
  partial["series"].erase("latency_ms");
  partial["series"]["queue_length_max"] = "oops";
  partial["series"]["queue_length_mean"] = "oops";
  partial["summary"]["latency_ms"] = 5;
  const std::string html2 = RenderHtml(partial, {});
  EXPECT_FALSE(Has(html2, "chart-latency"));
  EXPECT_FALSE(Has(html2, "chart-queue"));
  EXPECT_TRUE(Has(html2, "chart-traffic"));
  EXPECT_TRUE(Has(RowContaining(html2, "<td>p99.9</td>"), "—"));
}

TEST(RenderHtml, WarnsAboutAnUnknownSchemaButStillRenders) {
  nlohmann::json r = SampleReport();
  r["schema"] = "scaletwin.report/v9";
  const std::string html = RenderHtml(r, {});
  EXPECT_TRUE(Has(html, "scaletwin.report/v9"));
  EXPECT_TRUE(Has(html, "class=\"warning\""));
  EXPECT_TRUE(Has(html, "chart-traffic"));
}

TEST(RenderHtml, NeverThrowsOnInputThatIsNotAReport) {
  for (const nlohmann::json& bad : {nlohmann::json(), nlohmann::json::array({1, 2}), nlohmann::json("report"),
                                    nlohmann::json::object(), nlohmann::json{{"series", {{"t_s", "x"}}}},
                                    nlohmann::json{{"scenario", 3}, {"summary", nullptr}, {"tenants", {1, 2}}}}) {
    const std::string html = RenderHtml(bad, {});
    EXPECT_TRUE(Has(html, "</html>")) << bad.dump();
  }
  EXPECT_TRUE(Has(RenderHtml(nlohmann::json::array(), {}), "not a JSON object"));
}

TEST(RenderHtml, WallClockFactsComeOnlyFromTheContext) {
  const std::string plain = RenderHtml(SampleReport(), {});
  EXPECT_FALSE(Has(plain, "Generated at"));
  EXPECT_FALSE(Has(plain, "Wall-clock"));
  HtmlContext ctx;
  ctx.generated_at_utc = "2024-05-01T12:00:00.000Z";
  ctx.wall_seconds = 2.5;
  ctx.machine = "x86_64 <8 cores>";
  const std::string html = RenderHtml(SampleReport(), ctx);
  EXPECT_TRUE(Has(html, "2024-05-01T12:00:00.000Z"));
  EXPECT_TRUE(Has(html, "2.5 s"));
  EXPECT_TRUE(Has(html, "x86_64 &lt;8 cores&gt;"));
  EXPECT_EQ(html, RenderHtml(SampleReport(), ctx));  // deterministic
}

TEST(RenderHtml, OverlayDrawsBothRunsInEveryChartWithASimAndRealLegend) {
  const nlohmann::json sim = SampleReport();
  nlohmann::json real = SampleReport();
  real["mode"] = "real";
  real["summary"]["latency_ms"]["p99"] = 275.5;
  real["series"]["rejected_by_cause"]["pool_timeout"][4] = 2;  // a cause only the real run saw
  HtmlContext ctx;
  ctx.overlay = &real;
  const std::string html = RenderHtml(sim, ctx);
  EXPECT_EQ(Count(html, "<svg"), 6u);
  for (const char* series : {"offered", "p99", "mean", "ready", "busy workers (mean)", "queue_full"}) {
    EXPECT_TRUE(Has(html, std::string(">") + series + " · sim</text>")) << series;
    EXPECT_TRUE(Has(html, std::string(">") + series + " · real</text>")) << series;
  }
  EXPECT_TRUE(Has(html, ">pool_timeout · real</text>"));
  EXPECT_TRUE(Has(html, ">pool_timeout · sim</text>"));  // drawn for both, so the absence is visible
  EXPECT_TRUE(Has(html, "stroke-dasharray"));
  const std::string p99 = RowContaining(html, "<td>p99</td>");
  EXPECT_TRUE(Has(p99, "240.3 ms"));
  EXPECT_TRUE(Has(p99, "275.5 ms"));
  EXPECT_TRUE(Has(html, "<th>sim</th><th>real</th>"));
}

TEST(RenderHtml, OverlayLabelsStayDistinctWhenBothRunsHaveTheSameMode) {
  const nlohmann::json a = SampleReport(), b = SampleReport();
  HtmlContext ctx;
  ctx.overlay = &b;
  const std::string html = RenderHtml(a, ctx);
  EXPECT_TRUE(Has(html, ">p50 · sim (overlay)</text>"));
  ctx.label = "baseline";
  ctx.overlay_label = "candidate";
  const std::string named = RenderHtml(a, ctx);
  EXPECT_TRUE(Has(named, ">p50 · baseline</text>"));
  EXPECT_TRUE(Has(named, ">p50 · candidate</text>"));
}

TEST(RenderHtml, RendersLaterArraySectionsAsGenericTables) {
  nlohmann::json r = SampleReport();
  r["comparison"] = nlohmann::json::array(
      {{{"metric", "summary.latency_ms.p99"}, {"sim", 240.3}, {"real", 275.5}, {"tolerance", "20%"}, {"passed", true}},
       {{"metric", "summary.throughput_rps"}, {"sim", 78.75}, {"real", 50.0}, {"tolerance", "5%"}, {"passed", false}}});
  const std::string html = RenderHtml(r, {});
  EXPECT_TRUE(Has(html, "id=\"extra-comparison\""));
  const std::string row = RowContaining(html, "summary.throughput_rps</td>");
  EXPECT_TRUE(Has(row, "class=\"failed\""));
  EXPECT_TRUE(Has(row, ">FAIL<"));
  EXPECT_TRUE(Has(row, ">50<"));
}

TEST(RenderHtml, ARealRunShowsItsConditionsEscaped) {
  nlohmann::json r = SampleReport();
  r["mode"] = "real";
  r["real"] = {{"machine", "box, Linux 6.1 x86_64, 2 cores"},
               {"pods", 4},
               {"requests", 16457},
               {"unexpected_in_window", 3},
               {"generator", {{"lag_p99_ms", 0.19}, {"lag_max_ms", 6.4}}},
               {"redis_events", {{{"kind", "redis_restart"}, {"at_s", 3}, {"down_s", 0.5}, {"restarted", true}},
                                 {{"kind", "redis_kill"}, {"at_s", 9}}}},
               {"emulated", {"redis.network_delay (slept <each> way)"}},
               {"not_applied", {"pods.startup", "ingress.retries"}}};
  const std::string html = RenderHtml(r, {});
  EXPECT_TRUE(Has(html, "id=\"real\""));
  EXPECT_TRUE(Has(html, "box, Linux 6.1 x86_64, 2 cores"));
  EXPECT_TRUE(Has(html, "16,457"));
  EXPECT_TRUE(Has(html, "0.19 ms / 6.4 ms"));
  EXPECT_TRUE(Has(html, "<li>redis.network_delay (slept &lt;each&gt; way)</li>"));
  EXPECT_TRUE(Has(html, "<li>pods.startup</li><li>ingress.retries</li>"));
  EXPECT_TRUE(Has(html, "<li>redis_restart at 3 s, down 0.5 s, back</li><li>redis_kill at 9 s</li>"));
  EXPECT_TRUE(Has(html, "Unexpected answers in the window"));
  // A simulator report has no such section.
  EXPECT_FALSE(Has(RenderHtml(SampleReport(), {}), "id=\"real\""));
}

TEST(RenderHtml, LongSeriesAreDownsampledSoThePageStaysSmall) {
  nlohmann::json r = SampleReport();
  const size_t n = 200'000;  // e.g. 20 s at 100 µs intervals
  nlohmann::json offered = nlohmann::json::array(), t = nlohmann::json::array();
  for (size_t i = 0; i < n; ++i) {
    offered.push_back(i == 123'457 ? 1'000'000 : 80);
    t.push_back(static_cast<double>(i) * 0.0001);
  }
  r["series"] = {{"interval_s", 0.0001}, {"t_s", t}, {"offered", offered}};
  r["scenario"]["duration_s"] = 20.0;
  const std::string html = RenderHtml(r, {});
  EXPECT_LT(html.size(), 200'000u);
  // The spike (10^10 req/s after dividing by the interval) sets the y axis.
  EXPECT_TRUE(Has(html, ">10G</text>"));
}

}  // namespace
}  // namespace scaletwin::reports
