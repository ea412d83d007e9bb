// WriteReportFiles: the files a run leaves in its output directory.
//
//   out/<run>/report.json   the versioned result (reports/README.md), 2-space
//                           indented, trailing newline
//   out/<run>/report.html   the same result as a self-contained page
//
//   Status s = WriteReportFiles("out/flash-sale", report, ctx);
//   if (!s.ok()) { std::cerr << s.ToString() << "\n"; return 2; }
//
// Creates the directory (and parents) if needed. Each file is replaced
// atomically (WriteFileAtomically), so a crash leaves the previous complete
// file or the new one. report.json is written first: it is the record, the
// page is a view of it. report.json holds exactly `report`; wall-clock facts
// in `ctx` go only into the page.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/status.h"
#include "reports/html_report.h"

namespace scaletwin::reports {

// report.json as written: nlohmann's dump with 2-space indent plus "\n".
// Fails with InvalidArgument when a string in `report` is not valid UTF-8.
Result<std::string> SerializeReport(const nlohmann::json& report);

// Writes report.json and report.html into `dir`. Returns IOError naming the
// path that could not be created or written. Never throws.
Status WriteReportFiles(const std::string& dir, const nlohmann::json& report, const HtmlContext& ctx);

}  // namespace scaletwin::reports
