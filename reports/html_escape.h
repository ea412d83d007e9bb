// HtmlEscape: makes arbitrary text safe to place in HTML (and inline SVG)
// element content and double- or single-quoted attribute values.
//
// Every string that reaches report.html from a report (scenario names and
// descriptions are user input, tenant ids come from scenario files) goes
// through this, so a description such as "<script>" renders as text.
//
//   out += "<td>" + HtmlEscape(tenant_id) + "</td>";
//
// Bytes are passed through unchanged apart from the five characters below;
// invalid UTF-8 is not repaired (browsers show a replacement character).
#pragma once

#include <string>
#include <string_view>

namespace scaletwin::reports {

// Replaces & < > " ' with character references.
std::string HtmlEscape(std::string_view text);

}  // namespace scaletwin::reports
