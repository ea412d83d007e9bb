#include "reports/report_files.h"

#include <exception>
#include <filesystem>
#include <system_error>

#include "reports/atomic_file.h"

namespace scaletwin::reports {

Result<std::string> SerializeReport(const nlohmann::json& report) {
  try {
    return report.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    // type_error 316: a string is not UTF-8. Refusing beats writing JSON that
    // other tools cannot read.
    return Status::InvalidArgument(std::string("report cannot be serialised: ") + e.what());
  } catch (const std::exception& e) {
    return Status::Internal(std::string("report cannot be serialised: ") + e.what());
  }
}

Status WriteReportFiles(const std::string& dir, const nlohmann::json& report, const HtmlContext& ctx) {
  namespace fs = std::filesystem;
  try {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("cannot create directory " + dir + ": " + ec.message());
    // Older libstdc++ reports success when `dir` already exists as a regular file.
    if (!fs::is_directory(dir, ec)) return Status::IOError("cannot create directory " + dir + ": not a directory");

    Result<std::string> json_text = SerializeReport(report);
    if (!json_text.ok()) return json_text.status();
    if (Status s = WriteFileAtomically((fs::path(dir) / "report.json").string(), *json_text); !s.ok()) return s;

    const std::string html = RenderHtml(report, ctx);
    return WriteFileAtomically((fs::path(dir) / "report.html").string(), html);
  } catch (const std::exception& e) {  // std::bad_alloc, or a filesystem call without an error_code overload
    return Status::IOError("writing reports to " + dir + ": " + e.what());
  }
}

}  // namespace scaletwin::reports
