// WriteFileAtomically: replace a file's contents all at once or not at all.
//
// Reports are read by people and by CI scripts; a run killed mid-write (or
// two runs writing one directory) must never leave a truncated report.json
// that parses as garbage. The contents go to a uniquely named temporary file
// in the same directory, are flushed to disk (fsync), and are then renamed
// over the target — rename(2) within one file system is atomic, so a reader
// sees the old file or the new one, never a mixture.
//
//   Status s = WriteFileAtomically("out/run/report.json", text);
//
// The directory must exist. Thread-safe and safe across processes: temporary
// names include the process id and a per-process counter.
#pragma once

#include <string>
#include <string_view>

#include "model/status.h"

namespace scaletwin::reports {

// Writes `contents` to `path` atomically. On failure returns IOError naming
// the path and the OS reason, and leaves no temporary file behind.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

}  // namespace scaletwin::reports
